"""Routes of /v1/answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from orchestrator.api.answers.schemas import AnswerRequest, AnswerResponse
from orchestrator.api.answers.service import AnswersService
from orchestrator.api.deps import CallerDep, from_state
from orchestrator.api.errors import ApiError, ErrorResponse
from orchestrator.api.trace_header import trace_stored
from orchestrator.retrieval.citations import cited

router = APIRouter(prefix="/v1", tags=["answers"])


AnswersDep = Annotated[AnswersService, Depends(from_state("answers"))]


@router.post(
    "/answers",
    response_model=AnswerResponse,
    responses={code: {"model": ErrorResponse} for code in (400, 401, 404, 413, 422, 429)},
)
def create_answer(body: AnswerRequest, caller: CallerDep, answers: AnswersDep) -> Response:
    """Answer one question with a recruited committee; returns the answer and its trace."""
    if not body.question.strip():
        raise ApiError(422, "question: must not be blank", param="question")
    trace = answers.answer(body).traces[0]
    answer = AnswerResponse(
        answer=trace.answer,
        extracted_answer=trace.extracted_answer,
        error=trace.error,
        citations=cited(trace.answer, trace.retrieval.passages),
        trace=trace,
    )
    # serialised once, here: returning the model would make FastAPI validate the whole trace
    # again against response_model (which stays, for the schema)
    headers = trace_stored(answers.settings)
    return Response(answer.model_dump_json(), media_type="application/json", headers=headers)
