"""Distributed runner: every group goes to its expert's Celery queue at once; results are
gathered with a per-attempt deadline. A group that times out or fails on a worker is sent
again `retries` times, then reported as failed (never raised).

Celery is imported lazily, so the registry works without the `distributed` extra.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from orchestrator.errors import BrokerUnreachableError
from orchestrator.runners.base import GroupTextSink, Runner
from orchestrator.scheduler import Group, GroupResult

if TYPE_CHECKING:
    from celery import Celery
    from celery.result import AsyncResult


class CeleryRunner(Runner):
    name = "celery"

    def __init__(self, app: Celery, timeout_s: float = 600, retries: int = 1) -> None:
        self.app = app
        self.timeout_s = timeout_s
        self.retries = retries
        self.resubmissions = 0  # groups sent again after a timeout or failure

    def run(self, groups: list[Group], on_text: GroupTextSink | None = None) -> list[GroupResult]:
        """Whole completions only: results come back through the result backend."""
        from celery.exceptions import TimeoutError as ResultTimeout

        if not groups:
            return []
        self.check_reachable()
        results: list[GroupResult | None] = [None] * len(groups)
        reasons: dict[int, str] = {}
        pending = list(range(len(groups)))
        attempts = 0
        while pending and attempts <= self.retries:
            if attempts:
                self.resubmissions += len(pending)
            attempts += 1
            sent = {i: self._send(groups[i], groups[i + 1 :]) for i in pending}
            deadline = time.monotonic() + self.timeout_s
            pending = []
            for i, handle in sent.items():
                try:
                    payload = handle.get(timeout=max(0.01, deadline - time.monotonic()))
                    results[i] = GroupResult.model_validate(payload)
                except ResultTimeout:
                    reasons[i] = f"timed out after {self.timeout_s:g}s"
                    handle.revoke()
                    pending.append(i)
                except Exception as exc:  # raised by the task on the worker
                    reasons[i] = f"failed on the worker: {type(exc).__name__}: {exc}"
                    pending.append(i)
                else:
                    handle.forget()
        for i in pending:
            group = groups[i]
            results[i] = GroupResult(
                stage=group.stage,
                expert=group.spec.name,
                completions=[None] * len(group.requests),
                error=f"group {group.stage}/{group.spec.name} {reasons[i]} "
                f"({attempts} attempt{'s' if attempts > 1 else ''})",
            )
        return [r for r in results if r is not None]

    def check_reachable(self) -> None:
        """Raise BrokerUnreachableError unless both the broker and result backend answer."""
        from kombu.utils.url import maybe_sanitize_url

        url = maybe_sanitize_url(self.app.conf.broker_url)
        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=5)
        except Exception as exc:
            raise BrokerUnreachableError(f"cannot reach the broker at {url}: {exc}") from None
        client = getattr(self.app.backend, "client", None)
        if client is not None and hasattr(client, "ping"):
            backend_url = maybe_sanitize_url(self.app.conf.result_backend)
            try:
                client.ping()
            except Exception as exc:
                raise BrokerUnreachableError(
                    f"cannot reach the result backend at {backend_url}: {exc}"
                ) from None

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
        self.app.close()
