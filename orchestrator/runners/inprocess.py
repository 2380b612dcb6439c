"""The embedded default: run each group in this process through the model pool."""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING

from orchestrator.runners.base import GroupTextSink, Runner
from orchestrator.scheduler import Group, GroupResult
from workers.backends import create_backend
from workers.execute import execute_group
from workers.pool import ModelPool
from workers.types import ModelSpec, TextSink

if TYPE_CHECKING:
    from orchestrator.settings import Settings


class InProcessRunner(Runner):
    name = "inprocess"
    streams = True
    side_by_side = False  # one group at a time, under the lock

    def __init__(self, pool: ModelPool, prefetch: bool = True) -> None:
        self.pool = pool
        self.prefetch = prefetch
        # one device: concurrent callers (API requests, micro-batch flushes) take turns
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> InProcessRunner:
        """The registered factory (RUNNERS): its own model pool within the memory budget,
        whose backends find their files where this deployment's settings say."""
        return cls(ModelPool(settings.memory_budget_mb, settings))

    def run_groups(
        self, groups: list[Group], on_text: GroupTextSink | None = None
    ) -> list[GroupResult]:
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

    def check_expert(self, spec: ModelSpec) -> None:
        # the backend's package is there and its model can be found; loading the weights
        # here would make a readiness probe as slow as a model load
        create_backend(spec, self.pool.settings).check()

    def close(self) -> None:
        self.pool.release_all()
