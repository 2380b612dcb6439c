"""Routes of /v1/jobs: submit, read, watch (server-sent events) and cancel batch jobs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response
from sse_starlette import EventSourceResponse

from orchestrator.api.deps import CallerDep, from_state
from orchestrator.api.errors import ErrorResponse
from orchestrator.api.jobs.schemas import JobDetail, JobRequest
from orchestrator.api.jobs.service import JobsService, progress_events
from orchestrator.db.jobs import JobSummary

router = APIRouter(prefix="/v1", tags=["jobs"])


JobsDep = Annotated[JobsService, Depends(from_state("jobs"))]


def _errors(*codes: int, ok: dict[str, Any] | None = None) -> dict[int | str, dict[str, Any]]:
    responses: dict[int | str, dict[str, Any]] = {200: ok} if ok else {}
    return responses | {code: {"model": ErrorResponse} for code in codes}


IdempotencyKey = Annotated[
    str | None,
    Header(max_length=255, description="a retried submit with the same key returns the same job"),
]

_EVENTS: dict[str, Any] = {
    "description": "`progress` events (data: JobProgress) as items complete, then one "
    "`done`, `failed` or `cancelled` event; then the stream closes",
    "content": {"text/event-stream": {}},
}


@router.post(
    "/jobs",
    status_code=202,
    response_model=JobSummary,
    responses=_errors(
        400, 401, 404, 409, 413, 422, 429, ok={"description": "the job this Idempotency-Key made"}
    ),
)
def create_job(
    body: JobRequest,
    caller: CallerDep,
    jobs: JobsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> JobSummary:
    """Queue many questions as one job; returns the job at once (202)."""
    job, created = jobs.submit(caller, body, idempotency_key)
    if not created:
        response.status_code = 200
    return job


@router.get(
    "/jobs/{job_id}",
    response_model=JobDetail,
    responses=_errors(401, 404, 422, 429),
)
def get_job(
    job_id: str,
    caller: CallerDep,
    jobs: JobsDep,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1, description="first item to return")] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000, description="items to return")] = 1000,
) -> JobDetail:
    """A job's status, progress and its items' answers (paged by offset and limit)."""
    return jobs.detail(caller, job_id, offset, limit)


@router.get(
    "/jobs/{job_id}/events",
    response_class=EventSourceResponse,
    response_model=None,
    responses=_errors(401, 404, 429, ok=_EVENTS),
)
def job_events(job_id: str, caller: CallerDep, jobs: JobsDep) -> EventSourceResponse:
    """Stream a job's progress as server-sent events until it finishes."""
    jobs.owned(caller, job_id)
    return EventSourceResponse(progress_events(jobs.store, job_id))


@router.delete(
    "/jobs/{job_id}",
    response_model=JobSummary,
    responses=_errors(401, 404, 409, 429),
)
def delete_job(job_id: str, caller: CallerDep, jobs: JobsDep) -> JobSummary:
    """Cancel a queued or running job; its unanswered items are cancelled."""
    return jobs.cancel(caller, job_id)
