"""The embedded default: run each group in this process through the model pool."""

from __future__ import annotations

import threading

from orchestrator.runners.base import Runner
from orchestrator.scheduler import Group, GroupResult
from workers.execute import execute_group
from workers.pool import ModelPool


class InProcessRunner(Runner):
    name = "inprocess"

    def __init__(self, pool: ModelPool, prefetch: bool = True) -> None:
        self.pool = pool
        self.prefetch = prefetch
        # one device: concurrent callers (API requests, micro-batch flushes) take turns
        self._lock = threading.Lock()

    def run(self, groups: list[Group]) -> list[GroupResult]:
        with self._lock:
            return [self._run_group(g, groups[i + 1 :]) for i, g in enumerate(groups)]

    def _run_group(self, group: Group, upcoming: list[Group]) -> GroupResult:
        outcome = execute_group(
            self.pool,
            group.spec,
            group.params,
            [r.prompt for r in group.requests],
            prefetch=[g.spec for g in upcoming[:1]] if self.prefetch else [],
        )
        return GroupResult.model_validate(
            {"stage": group.stage, "expert": group.spec.name, **dict(outcome)}
        )

    def close(self) -> None:
        self.pool.release_all()
