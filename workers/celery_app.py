"""The Celery side of distributed serving: an app factory (nothing is created at import) and
the one task, `symoe.run_group`, that runs a group through this worker process's model pool.

Payloads are small JSON: a group (spec, sampling params, prompts) in, its outcome out. They
name models and carry no paths: the worker finds files where its own environment says
(WorkerSettings: SYMOE_DATA_DIR, SYMOE_SHARED_DATA_DIR, SYMOE_REPLAY_DIR). Queues
are named per expert (`expert.<name>`); workers ack late with prefetch 1 and beat a liveness
key (workers/liveness.py): the orchestrator sends the group of a worker that stops beating
again within seconds, and the broker's own redelivery after its visibility timeout remains
the backstop (a task the orchestrator abandoned is skipped, not run twice).
"""

from __future__ import annotations

import logging
import threading
from functools import partial
from typing import Any

from celery import Celery, Task, bootsteps
from celery.exceptions import Ignore
from celery.worker.control import inspect_command
from kombu.entity import Queue
from pydantic import BaseModel, Field

from workers import liveness
from workers.execute import execute_group
from workers.group_merge import GroupMerger
from workers.pool import ModelPool, PoolStats
from workers.settings import WorkerSettings
from workers.types import GenerationParams, ModelSpec, Prompt

log = logging.getLogger(__name__)

TASK_NAME = "symoe.run_group"
STATS_COMMAND = "symoe_pool_stats"

_pool: ModelPool | None = None
_merger: tuple[ModelPool, GroupMerger] | None = None  # the pool it runs on, itself
_pool_lock = threading.Lock()
_registered = False


def queue_name(expert: str) -> str:
    return f"expert.{expert}"


def worker_pool(memory_budget_mb: int) -> ModelPool:
    """The process-wide pool, created on first use inside the worker process, with the paths
    of this process's environment."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ModelPool(memory_budget_mb, WorkerSettings())
        return _pool


def worker_merger(memory_budget_mb: int) -> GroupMerger:
    """The process-wide merger over the pool: a threads-pool worker's concurrent groups for
    one model and sampling (from any API process) run as one generate call."""
    global _merger
    pool = worker_pool(memory_budget_mb)
    with _pool_lock:
        if _merger is None or _merger[0] is not pool:  # (tests replace the pool)
            _merger = (pool, GroupMerger(partial(execute_group, pool), pool.count_run))
        return _merger[1]


class _Request(BaseModel):
    prompt: Prompt


class GroupPayload(BaseModel):
    """The worker's view of the orchestrator's Group (other fields are ignored)."""

    stage: str
    spec: ModelSpec
    params: GenerationParams
    requests: list[_Request]
    prefetch: list[ModelSpec] = Field(
        default_factory=list, description="the stage's later groups: load ahead if hosted here"
    )


def run_group_payload(
    group: dict[str, Any], memory_budget_mb: int, hosted: list[str] | None = None
) -> dict[str, Any]:
    payload = GroupPayload.model_validate(group)
    outcome = worker_merger(memory_budget_mb).run(
        payload.spec,
        payload.params,
        [r.prompt for r in payload.requests],
        prefetch=[s for s in payload.prefetch if hosted is not None and s.name in hosted],
    )
    return {"stage": payload.stage, "expert": payload.spec.name, **outcome.model_dump(mode="json")}


class PoolStatsStep(bootsteps.StartStopStep):  # type: ignore[misc]
    """Adds the pool's counters to Celery's own `inspect stats` under the key `symoe_pool`."""

    def info(self, worker: object) -> dict[str, Any]:
        pool = _pool
        return {"symoe_pool": (pool.stats if pool is not None else PoolStats()).model_dump()}


def _register_stats_command() -> None:
    """`app.control.broadcast("symoe_pool_stats", reply=True)`: loads, evictions, residents."""
    global _registered
    if _registered:
        return

    @inspect_command(name=STATS_COMMAND)  # type: ignore[untyped-decorator]
    def _pool_stats(state: object) -> dict[str, Any]:
        pool = _pool
        return (pool.stats if pool is not None else PoolStats()).model_dump(mode="json")

    _registered = True


def make_celery_app(
    broker_url: str,
    backend_url: str,
    *,
    experts: list[str] | None = None,
    memory_budget_mb: int = 2048,
    visibility_timeout_s: float = 3600,
    result_expires_s: int = 86400,
    heartbeat_s: float = 2.0,
    lost_after_s: float = 10.0,
) -> Celery:
    """A configured app. `experts` (workers only) declares the queues the worker consumes;
    a worker renews its liveness key every `heartbeat_s`, and the key expires (the worker
    counts as lost) `lost_after_s` after the last renewal."""
    app = Celery("symoe", broker=broker_url, backend=backend_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        result_expires=result_expires_s,
        task_track_started=True,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        redis_socket_connect_timeout=3,
        broker_transport_options={
            "visibility_timeout": visibility_timeout_s,
            # sweep for expired unacked groups at least as often as they expire; kombu scans
            # only every `throttle`-th sweep (default 10, so 100 s apart): every sweep scans
            "unacked_restore_interval": min(10.0, max(1.0, visibility_timeout_s / 2)),
            "unacked_restore_throttle": 1,
        },
        worker_hijack_root_logger=False,
    )
    app.conf[liveness.HEARTBEAT_S] = heartbeat_s
    app.conf[liveness.LOST_AFTER_S] = lost_after_s
    if experts:
        app.conf.task_queues = [Queue(queue_name(e)) for e in experts]  # type: ignore[no-untyped-call]

    # shared=False: a shared task is added to every app made later in the process, where
    # this closure (this app's budget and experts) would answer under that app's name
    @app.task(  # type: ignore[untyped-decorator]
        name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True, shared=False
    )
    def run_group(task: Task, group: dict[str, Any]) -> dict[str, Any]:
        task_id = str(task.request.id)
        if liveness.is_abandoned(app, task_id):  # sent again elsewhere: a late redelivery
            log.warning("group task %s was abandoned by the orchestrator; skipped", task_id)
            app.backend.forget(task_id)
            raise Ignore()
        return run_group_payload(group, memory_budget_mb, experts)

    app.steps["worker"].add(PoolStatsStep)
    app.steps["worker"].add(liveness.HeartbeatStep)
    _register_stats_command()
    return app


def pool_stats(app: Celery, timeout_s: float = 2.0) -> dict[str, PoolStats]:
    """Each answering worker's pool counters, by worker hostname."""
    replies = app.control.broadcast(STATS_COMMAND, reply=True, timeout=timeout_s) or []
    return {
        host: PoolStats.model_validate(stats) for reply in replies for host, stats in reply.items()
    }
