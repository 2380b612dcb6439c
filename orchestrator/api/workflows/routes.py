"""Routes of /v1/workflows: list the workflows, start a run (202; it runs in the background),
read it, follow it (server-sent events), download its artifacts. Every route needs a key; a
run is seen only by the key that started it and by admin keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from sse_starlette import EventSourceResponse

from orchestrator.api.deps import CallerDep, from_state
from orchestrator.api.errors import ErrorResponse
from orchestrator.api.workflows.events import run_events
from orchestrator.api.workflows.schemas import RunCreated, RunDetail, RunRequest, WorkflowInfo
from orchestrator.api.workflows.service import MEDIA_TYPES, WorkflowsService

router = APIRouter(prefix="/v1/workflows", tags=["workflows"])

WorkflowsDep = Annotated[WorkflowsService, Depends(from_state("workflows"))]


def _errors(*codes: int, ok: dict[str, Any] | None = None) -> dict[int | str, dict[str, Any]]:
    responses: dict[int | str, dict[str, Any]] = {200: ok} if ok else {}
    return responses | {code: {"model": ErrorResponse} for code in (401, 429, *codes)}


_EVENTS: dict[str, Any] = {
    "description": "`run` (data: RunStatusEvent) when the status changes, `step` (a StepOut "
    "without output) when a step starts, finishes or fails, `attempt` (an AttemptOut) per "
    "attempt; then one `succeeded` or `failed` event (a RunStatusEvent with the result) and "
    "the stream closes",
    "content": {"text/event-stream": {}},
}
_FILE: dict[str, Any] = {
    "description": "the file, with its media type",
    "content": {media: {} for media in sorted(set(MEDIA_TYPES.values()))}
    | {"application/octet-stream": {}},
}


@router.get("", response_model=list[WorkflowInfo], responses=_errors())
def list_workflows(caller: CallerDep, service: WorkflowsDep) -> list[WorkflowInfo]:
    """The workflows a run can be started of (built in, and SYMOE_WORKFLOWS_DIR's)."""
    return service.list_workflows()


@router.post(
    "/{name}/runs",
    status_code=202,
    response_model=RunCreated,
    responses=_errors(400, 404, 413, 422, 503),
)
def create_run(name: str, body: RunRequest, caller: CallerDep, service: WorkflowsDep) -> RunCreated:
    """Start a run of the workflow on the input; returns its id at once (202). It runs in
    this server's background pool; a run a server stop interrupts is carried on with
    `symoe workflow resume RUN_ID`."""
    return service.start(caller, name, body.input)


@router.get("/runs/{run_id}", response_model=RunDetail, responses=_errors(404))
def get_run(run_id: str, caller: CallerDep, service: WorkflowsDep) -> RunDetail:
    """The run: its steps with status and times, every attempt with its scores and errors,
    the result (the last step's output) and a link per artifact."""
    return service.detail(caller, run_id)


@router.get(
    "/runs/{run_id}/events",
    response_class=EventSourceResponse,
    response_model=None,
    responses=_errors(404, ok=_EVENTS),
)
def run_events_stream(run_id: str, caller: CallerDep, service: WorkflowsDep) -> EventSourceResponse:
    """Stream the run's progress as server-sent events until it succeeds or fails."""
    record = service.owned(caller, run_id)
    return EventSourceResponse(run_events(lambda: service.store.get(record.id)))


@router.get(
    "/runs/{run_id}/artifacts/{path:path}",
    response_class=FileResponse,
    response_model=None,
    responses=_errors(404, ok=_FILE),
)
def get_artifact(run_id: str, path: str, caller: CallerDep, service: WorkflowsDep) -> FileResponse:
    """Download a file of the run (the mix, the timeline, the plot, a clip); 404 for any
    path outside the run's artifact folder."""
    file, media = service.artifact(caller, run_id, path)
    return FileResponse(file, media_type=media)
