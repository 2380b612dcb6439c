"""The embedded default: run each group in this process through the model pool."""

from __future__ import annotations

import time

from orchestrator.runners.base import Runner
from orchestrator.scheduler import Group, GroupResult
from workers.pool import ModelPool
from workers.types import BackendError, Completion, PromptTooLongError


class InProcessRunner(Runner):
    name = "inprocess"

    def __init__(self, pool: ModelPool) -> None:
        self.pool = pool

    def run(self, groups: list[Group]) -> list[GroupResult]:
        return [self._run_group(g) for g in groups]

    def _run_group(self, group: Group) -> GroupResult:
        started = time.perf_counter()
        result = GroupResult(stage=group.stage, expert=group.spec.name, completions=[])
        try:
            backend, result.loaded = self.pool.acquire(group.spec)
        except BackendError as exc:
            result.error = str(exc)
            result.completions = [None] * len(group.requests)
            result.seconds = time.perf_counter() - started
            return result
        result.load_seconds = time.perf_counter() - started if result.loaded else 0.0
        prompts = [r.prompt for r in group.requests]
        fitting = [i for i, p in enumerate(prompts) if backend.fits(p)]
        completions: list[Completion | None] = [None] * len(prompts)
        errors: list[str | None] = [None] * len(prompts)
        for i in set(range(len(prompts))) - set(fitting):
            errors[i] = str(
                PromptTooLongError(
                    f"prompt exceeds the context of {group.spec.n_ctx} tokens of "
                    f"expert {group.spec.name}"
                )
            )
        try:
            if fitting:
                outputs = backend.generate([prompts[i] for i in fitting], group.params)
                for i, out in zip(fitting, outputs, strict=True):
                    completions[i] = out
        except BackendError as exc:
            result.error = str(exc)
        result.completions = completions
        result.item_errors = errors
        result.seconds = time.perf_counter() - started
        return result

    def close(self) -> None:
        self.pool.release_all()
