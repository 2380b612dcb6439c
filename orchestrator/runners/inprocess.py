"""The embedded default: run each group in this process through the model pool."""

from __future__ import annotations

from orchestrator.runners.base import Runner
from orchestrator.scheduler import Group, GroupResult
from workers.execute import execute_group
from workers.pool import ModelPool


class InProcessRunner(Runner):
    name = "inprocess"

    def __init__(self, pool: ModelPool) -> None:
        self.pool = pool

    def run(self, groups: list[Group]) -> list[GroupResult]:
        return [self._run_group(g) for g in groups]

    def _run_group(self, group: Group) -> GroupResult:
        outcome = execute_group(
            self.pool, group.spec, group.params, [r.prompt for r in group.requests]
        )
        return GroupResult.model_validate(
            {"stage": group.stage, "expert": group.spec.name, **dict(outcome)}
        )

    def close(self) -> None:
        self.pool.release_all()
