"""Distributed runner: every group goes to its expert's Celery queue at once, and each group is
then followed on its own. An attempt ends with the group's result; with a failure on the
worker; after `timeout_s`; or, checked every `liveness_check_s`, when the worker that started
it has stopped beating (killed, its machine gone: workers/liveness.py). Each of the last three
sends the group again at once, up to `retries` times, then reports it failed (never raised).
An attempt given up on is marked abandoned, so a late redelivery of it is skipped by the
workers and a late result of it is ignored: no group is answered twice.

`cancel()` (the server is stopping) makes waiting calls raise RunnerClosedError promptly and
abandons what they were waiting for.

Celery is imported lazily, so the registry works without the `distributed` extra.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator.errors import BrokerUnreachableError, RunnerClosedError
from orchestrator.runners.base import GroupTextSink, Runner
from orchestrator.scheduler import Group, GroupResult
from workers.types import ModelSpec

if TYPE_CHECKING:
    from celery import Celery
    from celery.result import AsyncResult

    from orchestrator.settings import Settings

log = logging.getLogger(__name__)

_WAIT_SLICE_S = 0.5  # longest single wait on the result backend: bounds how late a cancel is


@dataclass
class _Attempt:
    handle: AsyncResult[Any]
    number: int
    deadline: float


class CeleryRunner(Runner):
    name = "celery"

    def __init__(
        self, app: Celery, timeout_s: float = 600, retries: int = 1, liveness_check_s: float = 2.0
    ) -> None:
        self.app = app
        self.timeout_s = timeout_s
        self.retries = retries
        self.liveness_check_s = liveness_check_s
        self.resubmissions = 0  # groups sent again after a timeout, failure or lost worker
        self.lost_workers = 0  # attempts given up because their worker stopped beating
        self._cancelled = threading.Event()

    @classmethod
    def from_settings(cls, settings: Settings) -> CeleryRunner:
        """The registered factory (RUNNERS): a client of the configured broker."""
        from workers.celery_app import make_celery_app

        s = settings
        app = make_celery_app(
            s.broker_url,
            s.result_backend,
            memory_budget_mb=s.memory_budget_mb,
            visibility_timeout_s=s.broker_visibility_timeout_s,
        )
        return cls(
            app,
            timeout_s=s.group_timeout_s,
            retries=s.group_retries,
            liveness_check_s=s.worker_heartbeat_s,
        )

    def run_groups(
        self, groups: list[Group], on_text: GroupTextSink | None = None
    ) -> list[GroupResult]:
        """Whole completions only: results come back through the result backend."""
        if not groups:
            return []
        self._check_open()
        self.check_reachable()
        results: list[GroupResult | None] = [None] * len(groups)
        outstanding = {i: self._attempt(groups, i, 1) for i in range(len(groups))}
        try:
            self._follow(groups, outstanding, results)
        finally:
            self._abandon([a.handle for a in outstanding.values()])  # cancelled or raised
        return [r for r in results if r is not None]

    def _follow(
        self,
        groups: list[Group],
        outstanding: dict[int, _Attempt],
        results: list[GroupResult | None],
    ) -> None:
        from celery.exceptions import TimeoutError as ResultTimeout

        def ended(i: int, reason: str) -> None:
            """Attempt `i` ended without a result: send the group again or report it."""
            attempt = outstanding.pop(i)
            self._abandon([attempt.handle])
            if attempt.number <= self.retries:
                self.resubmissions += 1
                outstanding[i] = self._attempt(groups, i, attempt.number + 1)
            else:
                results[i] = _failed(groups[i], reason, attempt.number)

        def collect(i: int, timeout_s: float) -> bool:
            """Wait up to `timeout_s` for attempt `i`; whether it ended."""
            handle = outstanding[i].handle
            try:
                payload = handle.get(timeout=max(0.01, timeout_s))
            except ResultTimeout:
                return False
            except Exception as exc:  # raised by the task on the worker
                ended(i, f"failed on the worker: {type(exc).__name__}: {exc}")
                return True
            results[i] = GroupResult.model_validate(payload)
            handle.forget()
            del outstanding[i]
            return True

        next_check = time.monotonic() + self.liveness_check_s
        while outstanding:
            i, attempt = next(iter(outstanding.items()))
            now = time.monotonic()
            if collect(i, min(attempt.deadline, next_check, now + _WAIT_SLICE_S) - now):
                continue
            self._check_open()
            now = time.monotonic()
            for j in [j for j, a in outstanding.items() if a.deadline <= now]:
                ended(j, f"timed out after {self.timeout_s:g}s")
            if now >= next_check:
                try:
                    done, lost = self._survey(outstanding)
                except Exception as exc:  # the backend away for a moment: check next time
                    log.warning("liveness check failed: %s: %s", type(exc).__name__, exc)
                    done, lost = [], {}
                for j in done:  # finished while another group was waited for
                    collect(j, 1.0)
                for j, host in lost.items():
                    self.lost_workers += 1
                    ended(j, f"lost its worker {host} (no heartbeat)")
                next_check = time.monotonic() + self.liveness_check_s

    def _survey(self, outstanding: dict[int, _Attempt]) -> tuple[list[int], dict[int, str]]:
        """One read of every outstanding attempt's state: those that have finished, and those
        started by a worker whose heartbeat has expired (with that worker's name)."""
        from celery import states

        from workers.liveness import silent_workers, task_states

        found = task_states(self.app, [a.handle.id for a in outstanding.values()])
        unknown = (states.PENDING, None)
        by_index = {i: found.get(a.handle.id, unknown) for i, a in outstanding.items()}
        started = {host for state, host in by_index.values() if state == states.STARTED and host}
        silent = silent_workers(self.app, started)
        done = [i for i, (state, _) in by_index.items() if state in states.READY_STATES]
        lost = {
            i: host
            for i, (state, host) in by_index.items()
            if state == states.STARTED and host in silent
        }
        return done, lost

    def _attempt(self, groups: list[Group], i: int, number: int) -> _Attempt:
        self._check_open()
        return _Attempt(
            self._send(groups[i], groups[i + 1 :]), number, time.monotonic() + self.timeout_s
        )

    def _abandon(self, handles: list[AsyncResult[Any]]) -> None:
        """No one waits for these any more: a worker that gets one later skips it."""
        from workers.liveness import abandon

        if not handles:
            return
        try:
            abandon(self.app, [h.id for h in handles])
            for handle in handles:
                handle.revoke()  # live workers drop it at once if they hold it unstarted
                handle.forget()
        except Exception as exc:  # best effort: a late result is ignored all the same
            log.warning("could not mark groups abandoned: %s: %s", type(exc).__name__, exc)

    def _check_open(self) -> None:
        if self._cancelled.is_set():
            raise RunnerClosedError("the distributed runner was stopped (the server is stopping)")

    def cancel(self) -> None:
        self._cancelled.set()

    def check(self, experts: Sequence[ModelSpec]) -> dict[str, str]:
        """The broker and result backend answer, and an expert's backend is known (the
        workers load the models)."""
        try:
            self.check_reachable()
            broker = "ok"
        except Exception as exc:
            broker = f"failed: {exc}"
        return {"broker": broker, **super().check(experts)}

    def check_reachable(self) -> None:
        check_reachable(self.app)

    def _send(self, group: Group, later: list[Group]) -> AsyncResult[Any]:
        from workers.celery_app import TASK_NAME, queue_name

        payload = group.model_dump(mode="json")
        # a worker hosting a later group's expert loads it while this group generates
        payload["prefetch"] = [g.spec.model_dump(mode="json") for g in later[:2]]
        return self.app.send_task(
            TASK_NAME,
            args=[payload],
            queue=queue_name(group.spec.name),
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        )

    def close(self) -> None:
        self.cancel()
        self.app.close()


def _failed(group: Group, reason: str, attempts: int) -> GroupResult:
    return GroupResult(
        stage=group.stage,
        expert=group.spec.name,
        completions=[None] * len(group.requests),
        error=f"group {group.stage}/{group.spec.name} {reason} "
        f"({attempts} attempt{'s' if attempts > 1 else ''})",
    )


def check_reachable(app: Celery) -> None:
    """Raise BrokerUnreachableError unless both the broker and result backend answer."""
    from kombu.utils.url import maybe_sanitize_url

    url = maybe_sanitize_url(app.conf.broker_url)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=5)
    except Exception as exc:
        raise BrokerUnreachableError(f"cannot reach the broker at {url}: {exc}") from None
    client = getattr(app.backend, "client", None)
    if client is not None and hasattr(client, "ping"):
        backend_url = maybe_sanitize_url(app.conf.result_backend)
        try:
            client.ping()
        except Exception as exc:
            raise BrokerUnreachableError(
                f"cannot reach the result backend at {backend_url}: {exc}"
            ) from None
