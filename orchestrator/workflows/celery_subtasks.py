"""A workflow's sub-tasks on Celery workers: the tasks step sends a group of sub-task tasks
(one per sub-task: its whole refinement loop, `WorkflowEngine.run_subtask`) to the
`workflows` queue, with a chord whose callback collects the kept attempts into the step's
output; the engine that sent them waits for that output and goes on with the next steps.

Workers (`symoe worker --workflows`) reach the same run store and data dir as the process
running the workflow (PostgreSQL or a shared SQLite file; a shared file system for the
artifacts), so every attempt a worker makes is stored as it ends, exactly as in process. Tasks
ack late and are delivered again when their worker dies; a sub-task delivered again replays
its stored attempts and never makes a finished one twice (`run_subtask`). Celery is imported
inside functions, so this module loads without the `distributed` extra."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orchestrator.errors import ConfigError
from orchestrator.runners.celery import check_reachable
from orchestrator.workflows.engine import WorkflowEngine
from orchestrator.workflows.types import Attempt, SubTask

if TYPE_CHECKING:
    from celery import Celery

    from orchestrator.settings import Settings

log = logging.getLogger(__name__)

SUBTASK_TASK = "symoe.workflow_subtask"
COLLECT_TASK = "symoe.workflow_collect"
WORKFLOW_QUEUE = "workflows"

_SERVED_FOR_S = 60.0
_served_at: dict[str, float] = {}  # broker URL -> when a worker was last seen on the queue

# run id -> an engine over that run's workflow file (the worker's own WorkflowService)
EngineFor = Callable[[str], WorkflowEngine]


def run_subtask_payload(
    engine_for: EngineFor, run_id: str, key: str, task: dict[str, Any]
) -> dict[str, Any]:
    """What the sub-task task does, without Celery: the loop of one sub-task, JSON out."""
    subtask = SubTask.model_validate(task)
    attempt = engine_for(run_id).run_subtask(run_id, key, subtask)
    return {"task_id": subtask.id, "attempt": attempt.model_dump(mode="json")}


def collect_payloads(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The chord's callback: the sub-tasks' kept attempts (in the group's order) and the
    worker each ran on."""
    return {
        "accepted": {r["task_id"]: r["attempt"] for r in results},
        "ran_on": {r["task_id"]: r.get("worker", "") for r in results},
    }


def register_workflow_tasks(app: Celery, engine_for: EngineFor) -> None:
    """Add the sub-task and collect tasks to a worker's app (`symoe worker --workflows`)."""
    from celery import Task

    @app.task(  # type: ignore[untyped-decorator]
        name=SUBTASK_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, shared=False
    )
    def workflow_subtask(
        celery_task: Task, run_id: str, key: str, task: dict[str, Any]
    ) -> dict[str, Any]:
        out = run_subtask_payload(engine_for, run_id, key, task)
        return out | {"worker": str(celery_task.request.hostname or "")}

    @app.task(name=COLLECT_TASK, shared=False)  # type: ignore[untyped-decorator]
    def workflow_collect(results: list[dict[str, Any]]) -> dict[str, Any]:
        return collect_payloads(results)


class CelerySubtasks:
    """The SubtaskRunner that sends sub-tasks to the workers and waits for the chord."""

    def __init__(self, app: Celery, timeout_s: float = 3600) -> None:
        self.app = app
        self.timeout_s = timeout_s

    @classmethod
    def from_settings(cls, settings: Settings) -> CelerySubtasks:
        from workers.celery_app import make_celery_app

        app = make_celery_app(
            settings.broker_url,
            settings.result_backend,
            visibility_timeout_s=settings.broker_visibility_timeout_s,
        )
        return cls(app, settings.workflow_celery_timeout_s)

    def run(
        self, run_id: str, todo: list[tuple[str, SubTask]]
    ) -> tuple[dict[str, Attempt], dict[str, str]]:
        from celery import chord, group
        from celery.exceptions import TimeoutError as ResultTimeout

        check_reachable(self.app)
        self._check_served()
        header = group(
            self.app.signature(
                SUBTASK_TASK, args=(run_id, key, task.model_dump(mode="json")), queue=WORKFLOW_QUEUE
            )
            for key, task in todo
        )
        result = chord(header)(self.app.signature(COLLECT_TASK, queue=WORKFLOW_QUEUE))
        try:
            payload = result.get(timeout=self.timeout_s)
        except ResultTimeout:
            raise RuntimeError(
                f"the workers did not finish {len(todo)} sub-task(s) in "
                f"{self.timeout_s:g} s (SYMOE_WORKFLOW_CELERY_TIMEOUT_S); resume the run later"
            ) from None
        except Exception as exc:  # a sub-task raised on its worker (its tools' failures do not)
            raise RuntimeError(
                f"a sub-task failed on its worker: {type(exc).__name__}: {exc}"
            ) from None
        result.forget()
        accepted = {k: Attempt.model_validate(v) for k, v in payload["accepted"].items()}
        return accepted, dict(payload["ran_on"])

    def _check_served(self) -> None:
        """Fail at once, rather than after the timeout, when no worker consumes the queue.
        Asking the workers waits out the whole reply window, so a broker found served is not
        asked again for a minute (by any runner of this process)."""
        broker = str(self.app.conf.broker_url)
        seen = _served_at.get(broker)
        if seen is not None and time.monotonic() - seen < _SERVED_FOR_S:
            return
        replies = self.app.control.inspect(timeout=1.0).active_queues() or {}
        if not any(q.get("name") == WORKFLOW_QUEUE for qs in replies.values() for q in qs):
            raise ConfigError(
                f"no Celery worker serves the {WORKFLOW_QUEUE!r} queue: start one with "
                "`symoe worker --workflows`, or run sub-tasks in process "
                "(SYMOE_WORKFLOW_RUNNER=inprocess)"
            )
        _served_at[broker] = time.monotonic()
