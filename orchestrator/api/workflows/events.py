"""The server-sent progress events of a workflow run, read by polling the run store, so they
follow a run executed by any process on the same database (an API server, `symoe workflow
run` or `resume`).

Events: `run` when the run's status changes (its first one included), `step` when a step
(a workflow step or one sub-task's refinement loop) starts, finishes or fails, `attempt` for
each attempt a candidate made, with its scores; then one final event named by the final
status, `succeeded` or `failed`, and the stream ends. A client that goes away ends the
polling."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime

import anyio

from orchestrator.api.workflows.service import attempt_out, status_event, step_out
from orchestrator.workflows.types import WorkflowRunRecord

EVENT_POLL_S = 0.5
FINAL = ("succeeded", "failed")


async def run_events(
    read: Callable[[], WorkflowRunRecord], poll_s: float = EVENT_POLL_S
) -> AsyncIterator[dict[str, str]]:
    """`read` returns the run as stored now (it runs in a worker thread)."""
    status: str | None = None
    steps: dict[str, tuple[str, datetime]] = {}  # a restarted step starts again: a change
    attempts_seen = 0
    while True:
        record = await anyio.to_thread.run_sync(read)
        if record.status != status and record.status not in FINAL:
            yield {"event": "run", "data": status_event(record).model_dump_json()}
        status = record.status
        for step in record.steps:
            state = (step.status, step.started_at)
            if steps.get(step.key) != state:
                steps[step.key] = state
                data = step_out(step).model_dump_json(exclude={"output"})  # on GET the run
                yield {"event": "step", "data": data}
        for attempt in record.attempts[attempts_seen:]:
            yield {"event": "attempt", "data": attempt_out(record.id, attempt).model_dump_json()}
        attempts_seen = len(record.attempts)
        if record.status in FINAL:
            yield {"event": record.status, "data": status_event(record).model_dump_json()}
            return
        await anyio.sleep(poll_s)
