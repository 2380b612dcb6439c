"""Worker liveness, so that the group of a worker that dies is sent again in seconds.

Every `symoe worker` renews a key `symoe:worker:<hostname>` in the result backend's Redis
every `heartbeat_s`; the key expires after `lost_after_s`. The key lives in a thread of its
own, so a worker busy in a long generation (the solo pool answers no control messages
meanwhile) keeps beating, and one that is killed stops at once. A started group's state
names its worker (Celery stores `hostname` with STARTED), so the orchestrator can tell a
group held by a dead worker from a slow one without any clock: the key is there or not.

The orchestrator marks the task it gives up on `symoe:abandoned:<task id>`: when the broker
delivers that task again later (after its visibility timeout), the worker skips it instead of
running the group a second time.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from celery import Celery, bootsteps

if TYPE_CHECKING:
    from redis import Redis

log = logging.getLogger(__name__)

HEARTBEAT_S = "symoe_heartbeat_s"  # app.conf keys set by make_celery_app
LOST_AFTER_S = "symoe_worker_lost_after_s"
ABANDONED_TTL_S = 7 * 86400  # beyond any visibility timeout a deployment would choose


def alive_key(hostname: str) -> str:
    return f"symoe:worker:{hostname}"


def abandoned_key(task_id: str) -> str:
    return f"symoe:abandoned:{task_id}"


def redis_client(app: Celery) -> Redis | None:
    """The result backend's Redis client; None for other backends (no liveness then)."""
    client = getattr(app.backend, "client", None)
    return client if client is not None and hasattr(client, "set") else None


class Heartbeat:
    """Renews this worker's key until stopped; a Redis hiccup is logged and retried."""

    def __init__(self, client: Redis, hostname: str, every_s: float, ttl_s: float) -> None:
        self.client = client
        self.key = alive_key(hostname)
        self.every_s = every_s
        self.ttl_ms = int(ttl_s * 1000)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        self.client.set(self.key, "1", px=self.ttl_ms)

    def start(self) -> None:
        self.beat()  # present before the first group is taken
        self._thread = threading.Thread(target=self._loop, name="symoe-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """A worker that stops on purpose has finished its groups: it is gone at once."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        try:
            self.client.delete(self.key)
        except Exception:  # Redis away: the key expires by itself
            log.warning("could not remove the heartbeat key %s", self.key)

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.beat()
            except Exception:
                log.exception("heartbeat to Redis failed; retrying in %.1fs", self.every_s)


class HeartbeatStep(bootsteps.StartStopStep):  # type: ignore[misc]
    """Runs a `Heartbeat` for as long as the worker runs (Redis result backends only)."""

    def create(self, worker: Any) -> Heartbeat | None:
        client = redis_client(worker.app)
        if client is None:
            return None
        conf = worker.app.conf
        return Heartbeat(client, worker.hostname, conf[HEARTBEAT_S], conf[LOST_AFTER_S])


def is_abandoned(app: Celery, task_id: str) -> bool:
    client = redis_client(app)
    return client is not None and bool(client.exists(abandoned_key(task_id)))


def abandon(app: Celery, task_ids: list[str]) -> None:
    """Mark tasks the orchestrator no longer waits for: a later delivery is skipped."""
    client = redis_client(app)
    if client is None or not task_ids:
        return
    pipe = client.pipeline(transaction=False)
    for task_id in task_ids:
        pipe.set(abandoned_key(task_id), "1", ex=ABANDONED_TTL_S)
    pipe.execute()


def task_states(app: Celery, task_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """(state, worker hostname if started) per task id with a stored state, in one read."""
    client = redis_client(app)
    if client is None or not task_ids:
        return {}
    backend = app.backend
    raw = client.mget([backend.get_key_for_task(task_id) for task_id in task_ids])
    states: dict[str, tuple[str, str | None]] = {}
    for task_id, payload in zip(task_ids, raw, strict=True):
        if payload is None:
            continue
        meta = backend.decode(payload)
        result = meta.get("result")
        host = result.get("hostname") if isinstance(result, dict) else None
        states[task_id] = (str(meta.get("status")), host if isinstance(host, str) else None)
    return states


def silent_workers(app: Celery, hostnames: set[str]) -> set[str]:
    """The workers among `hostnames` whose heartbeat key has expired."""
    client = redis_client(app)
    if client is None or not hostnames:
        return set()
    names = sorted(hostnames)
    present = client.mget([alive_key(name) for name in names])
    return {name for name, value in zip(names, present, strict=True) if value is None}
