"""What the Workers page shows: where this server's groups run and what is loaded there.

In process (runner `inprocess`): the server's own model pool (PoolStats: resident models,
loads, evictions), and no remote workers. With the Celery runner: the live workers (their
liveness keys in the result backend's Redis, workers/liveness.py), what each consumes
(Celery inspect `active_queues`: `expert.<name>` queues, `workflows`) and its pool counters
(inspect `stats`, where PoolStatsStep adds the `symoe_pool_stats` counters under
`symoe_pool`), and each queue's depth (Redis LLEN on the broker, every priority level).
Every broker call has a short timeout, and a broker that does not answer is a `problem` the
page shows, never an error page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from orchestrator.runners import CeleryRunner, InProcessRunner, MicroBatchingRunner, Runner
from orchestrator.workflows.celery_subtasks import WORKFLOW_QUEUE
from workers.pool import PoolStats

if TYPE_CHECKING:
    from celery import Celery
    from redis import Redis

EXPERT_QUEUE = "expert."  # workers/celery_app.py queue_name's prefix
_PRIORITY_SEP = "\x06\x16"  # kombu's Redis transport: queue<sep><priority> per priority level
_PRIORITIES = (3, 6, 9)  # beside the queue's own key (priority 0)


@dataclass(frozen=True)
class LocalPool:
    stats: PoolStats
    budget_mb: int
    merged: dict[str, int] | None = None  # micro-batching: groups handed in and sent

    @property
    def models(self) -> list[tuple[str, bool, int]]:
        """(model, resident now, loads so far): the resident first, in LRU order."""
        names = [*self.stats.resident, *self.stats.loads_by_model]
        return [
            (n, n in self.stats.resident, self.stats.loads_by_model.get(n, 0))
            for n in dict.fromkeys(names)
        ]


@dataclass(frozen=True)
class WorkerInfo:
    hostname: str
    alive: bool  # its liveness key is there
    answered: bool  # it answered inspect (a solo worker busy generating does not)
    experts: list[str] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)
    pool: PoolStats | None = None
    pid: int | None = None
    uptime_s: int | None = None
    tasks: int = 0  # tasks it received since it started


@dataclass(frozen=True)
class QueueDepth:
    name: str
    depth: int
    consumers: list[str]


@dataclass(frozen=True)
class WorkersView:
    runner: str
    local: LocalPool | None = None
    broker: str = ""
    workers: list[WorkerInfo] = field(default_factory=list)
    queues: list[QueueDepth] = field(default_factory=list)
    problem: str | None = None


def base_runner(runner: Runner) -> Runner:
    return runner.inner if isinstance(runner, MicroBatchingRunner) else runner


def workers_view(runner: Runner, experts: list[str], timeout_s: float = 1.0) -> WorkersView:
    """The view of `runner` (the server's, possibly micro-batching); `experts` are the
    registry's names, whose queues are listed even when no worker consumes them."""
    inner = base_runner(runner)
    if isinstance(inner, InProcessRunner):
        merged = runner.stats.as_dict() if isinstance(runner, MicroBatchingRunner) else None
        pool = inner.pool
        local = LocalPool(pool.stats.model_copy(deep=True), pool.memory_budget_mb, merged)
        return WorkersView(runner=inner.name, local=local)
    if isinstance(inner, CeleryRunner):
        return celery_view(inner.app, experts, timeout_s)
    return WorkersView(runner=inner.name, problem=f"the {inner.name!r} runner shows no workers")


def celery_view(app: Celery, experts: list[str], timeout_s: float) -> WorkersView:
    from kombu.utils.url import maybe_sanitize_url

    shown = str(maybe_sanitize_url(app.conf.broker_url))
    broker = _redis(app.conf.broker_url, timeout_s)
    backend = _redis(app.conf.result_backend, timeout_s)
    if broker is None:
        return WorkersView("celery", broker=shown, problem="queue depths need a Redis broker")
    try:
        broker.ping()
        alive = _alive(backend)
    except Exception as exc:  # redis' errors, whatever the broker's failure
        return WorkersView("celery", broker=shown, problem=f"the broker does not answer: {exc}")
    inspect = app.control.inspect(timeout=timeout_s, limit=len(alive) or None)
    try:
        queues: dict[str, Any] = inspect.active_queues() or {}
        stats: dict[str, Any] = inspect.stats() or {}
    except Exception as exc:  # kombu's connection errors
        return WorkersView("celery", broker=shown, problem=f"inspecting workers failed: {exc}")
    workers = [
        _worker(host, host in alive, queues.get(host), stats.get(host))
        for host in sorted(alive | set(queues) | set(stats))
    ]
    wanted = {f"{EXPERT_QUEUE}{e}" for e in experts} | {WORKFLOW_QUEUE}
    names = sorted(wanted.union(*(w.queues for w in workers)))
    try:
        depths = _depths(broker, names)
    except Exception as exc:
        return WorkersView("celery", broker=shown, workers=workers, problem=f"LLEN failed: {exc}")
    listed = [
        QueueDepth(n, depths[n], [w.hostname for w in workers if n in w.queues]) for n in names
    ]
    return WorkersView("celery", broker=shown, workers=workers, queues=listed)


def _redis(url: str, timeout_s: float) -> Redis | None:
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    from redis import Redis

    return Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=2 * timeout_s)


def _alive(backend: Redis | None) -> set[str]:
    """Hostnames with a liveness key (workers/liveness.py alive_key)."""
    if backend is None:
        return set()
    prefix = "symoe:worker:"
    return {
        (k.decode() if isinstance(k, bytes) else str(k)).removeprefix(prefix)
        for k in backend.scan_iter(match=f"{prefix}*", count=1000)
    }


def _worker(host: str, alive: bool, queues: Any, stats: Any) -> WorkerInfo:
    names = sorted(str(q.get("name")) for q in queues or [] if isinstance(q, dict))
    stats = stats if isinstance(stats, dict) else {}
    try:
        pool = PoolStats.model_validate(stats["symoe_pool"]) if "symoe_pool" in stats else None
    except ValidationError:
        pool = None
    total = stats.get("total")
    return WorkerInfo(
        hostname=host,
        alive=alive,
        answered=queues is not None or bool(stats),
        experts=[n.removeprefix(EXPERT_QUEUE) for n in names if n.startswith(EXPERT_QUEUE)],
        queues=names,
        pool=pool,
        pid=stats.get("pid") if isinstance(stats.get("pid"), int) else None,
        uptime_s=stats.get("uptime") if isinstance(stats.get("uptime"), int) else None,
        tasks=sum(total.values()) if isinstance(total, dict) else 0,
    )


def _depths(broker: Redis, names: list[str]) -> dict[str, int]:
    """Messages waiting per queue, over kombu's key for each priority level."""
    pipe = broker.pipeline(transaction=False)
    for name in names:
        pipe.llen(name)
        for level in _PRIORITIES:
            pipe.llen(f"{name}{_PRIORITY_SEP}{level}")
    counts = pipe.execute()
    per = 1 + len(_PRIORITIES)
    return {n: sum(int(c) for c in counts[i * per : (i + 1) * per]) for i, n in enumerate(names)}
