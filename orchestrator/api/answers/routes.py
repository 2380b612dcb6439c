"""Routes of /v1/answers."""

from __future__ import annotations

from fastapi import APIRouter

from orchestrator.api.answers.schemas import AnswerRequest, AnswerResponse
from orchestrator.api.answers.service import answer_batch, batch_options
from orchestrator.api.deps import CallerDep, ServicesDep
from orchestrator.api.errors import ErrorResponse

router = APIRouter(prefix="/v1", tags=["answers"])


@router.post(
    "/answers",
    response_model=AnswerResponse,
    responses={code: {"model": ErrorResponse} for code in (400, 401, 404, 413, 422, 429)},
)
def create_answer(body: AnswerRequest, caller: CallerDep, services: ServicesDep) -> AnswerResponse:
    """Answer one question with a recruited committee; returns the answer and its trace."""
    if not body.question.strip():
        from orchestrator.api.errors import ApiError

        raise ApiError(422, "question: must not be blank", param="question")
    options = batch_options(services, body)
    services.metrics.queue_depth.inc()
    try:
        report = answer_batch(services, [body.question], options)
    finally:
        services.metrics.queue_depth.dec()
    trace = report.traces[0]
    return AnswerResponse(
        answer=trace.answer,
        extracted_answer=trace.extracted_answer,
        error=trace.error,
        trace=trace,
    )
