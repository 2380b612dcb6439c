"""The embedded default: run each group in this process through the model pool."""

from __future__ import annotations

import threading
from functools import partial

from orchestrator.runners.base import GroupTextSink, Runner
from orchestrator.scheduler import Group, GroupResult
from workers.execute import execute_group
from workers.pool import ModelPool
from workers.types import TextSink


class InProcessRunner(Runner):
    name = "inprocess"
    streams = True

    def __init__(self, pool: ModelPool, prefetch: bool = True) -> None:
        self.pool = pool
        self.prefetch = prefetch
        # one device: concurrent callers (API requests, micro-batch flushes) take turns
        self._lock = threading.Lock()

    def run(self, groups: list[Group], on_text: GroupTextSink | None = None) -> list[GroupResult]:
        with self._lock:
            return [
                self._run_group(g, groups[i + 1 :], partial(on_text, i) if on_text else None)
                for i, g in enumerate(groups)
            ]

    def _run_group(
        self, group: Group, upcoming: list[Group], on_text: TextSink | None
    ) -> GroupResult:
        outcome = execute_group(
            self.pool,
            group.spec,
            group.params,
            [r.prompt for r in group.requests],
            prefetch=[g.spec for g in upcoming[:1]] if self.prefetch else [],
            on_text=on_text,
        )
        return GroupResult.model_validate(
            {"stage": group.stage, "expert": group.spec.name, **dict(outcome)}
        )

    def close(self) -> None:
        self.pool.release_all()
