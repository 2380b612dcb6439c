"""/admin/jobs: the batch jobs newest first with status and progress (JobList), one job's
page with its items, its progress live over server-sent events (the API's own event source,
`progress_events`, read with the dashboard session) and a Cancel button with the API's
semantics (JobsService.cancel as an admin: any job; 409 once it has finished)."""

from __future__ import annotations

from typing import get_args

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sse_starlette import EventSourceResponse

from orchestrator.api.dashboard.auth import ActorDep, Viewer, ViewerDep
from orchestrator.api.dashboard.query_view import page_size
from orchestrator.api.dashboard.templating import render
from orchestrator.api.errors import ApiError
from orchestrator.api.jobs.schemas import FINISHED
from orchestrator.api.jobs.service import JobsService, progress_events
from orchestrator.db.job_list import JobList
from orchestrator.db.jobs import JobStatus
from orchestrator.errors import InputError

router = APIRouter(prefix="/admin/jobs", include_in_schema=False)
STATUSES: tuple[str, ...] = get_args(JobStatus)


def _jobs(request: Request) -> JobsService:
    return request.app.state.jobs  # type: ignore[no-any-return]


def _offset(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    if not raw.isdigit() or int(raw) > 2**31 - 1:
        raise InputError(f"offset: a whole number from 0, not {raw[:20]!r}")
    return int(raw)


def _key_names(request: Request) -> dict[str, str]:
    return {k.id: k.name for k in request.app.state.services.keys.list()}


@router.get("")
def jobs_page(request: Request, who: ViewerDep) -> Response:
    params = request.query_params
    status = params.get("status") or None
    try:
        if status is not None and status not in STATUSES:
            raise InputError(f"status: one of {', '.join(STATUSES)}, not {status[:20]!r}")
        offset, limit = _offset(params.get("offset")), page_size(params.get("limit"))
    except InputError as exc:
        return render(
            request,
            "jobs.html",
            who,
            400,
            error=str(exc),
            page=None,
            statuses=STATUSES,
            status=None,
        )
    page = JobList(request.app.state.services.deployment.stores.sessions).page(
        status,  # type: ignore[arg-type]  # one of STATUSES, checked above
        offset,
        limit,
    )
    return render(
        request,
        "jobs.html",
        who,
        page=page,
        statuses=STATUSES,
        status=status,
        offset=offset,
        limit=limit,
        keys=_key_names(request),
    )


def _job_page(
    request: Request, who: Viewer, job_id: str, status: int = 200, **extra: object
) -> Response:
    jobs = _jobs(request)
    job = jobs.store.get(job_id)
    if job is None:
        message = f"no job with id {job_id!r}"
        return render(request, "message.html", who, 404, title="Jobs", message=message)
    try:
        offset, limit = (
            _offset(request.query_params.get("offset")),
            page_size(request.query_params.get("limit")),
        )
    except InputError as exc:
        offset, limit, status, extra = 0, 50, 400, {**extra, "error": str(exc)}
    return render(
        request,
        "job.html",
        who,
        status,
        job=job.summary,
        owner=_key_names(request).get(job.key_id or "", job.key_id),
        options=job.request.get("options", {}),
        items=jobs.store.items(job_id, offset, limit),
        offset=offset,
        limit=limit,
        live=job.summary.status not in FINISHED,
        done=request.query_params.get("done"),
        **extra,
    )


@router.get("/{job_id}")
def job_page(request: Request, who: ViewerDep, job_id: str) -> Response:
    return _job_page(request, who, job_id)


@router.get("/{job_id}/events")
def job_events(request: Request, who: ViewerDep, job_id: str) -> Response:
    """`progress` events while the job runs, then `done`, `failed` or `cancelled`; the same
    stream as GET /v1/jobs/{id}/events, for the dashboard's session."""
    store = _jobs(request).store
    if store.get(job_id) is None:
        return render(
            request, "message.html", who, 404, title="Jobs", message=f"no job with id {job_id!r}"
        )
    return EventSourceResponse(progress_events(store, job_id))


@router.post("/{job_id}/cancel")
def cancel_job(request: Request, who: ActorDep, job_id: str) -> Response:
    try:
        _jobs(request).cancel(who.admin, job_id)
    except ApiError as exc:  # unknown (404) or already finished (409): told on the page
        if exc.status == 404:
            return render(request, "message.html", who, 404, title="Jobs", message=exc.message)
        return _job_page(request, who, job_id, exc.status, error=exc.message)
    return RedirectResponse(f"/admin/jobs/{job_id}?done=cancelled", status_code=303)
