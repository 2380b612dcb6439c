"""The runner interface: execute groups of prompts somewhere and return their results."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

from orchestrator.scheduler import Group, GroupResult
from workers.backends import BACKENDS
from workers.types import BackendError, ModelSpec

# (group index, request index in the group, new text): completions as they are decoded
GroupTextSink = Callable[[int, int, str], None]


class Runner(ABC):
    name: str = ""
    # whether `run` hands out text while decoding; the others return whole completions only
    streams: bool = False
    # whether two groups sent at once can run side by side (workers) or queue (one GPU)
    side_by_side: bool = True

    @abstractmethod
    def run_groups(
        self, groups: list[Group], on_text: GroupTextSink | None = None
    ) -> list[GroupResult]:
        """One result per group, in order. A failing group is reported, never raised.
        Runners that stream call `on_text` as completions are decoded; others ignore it."""

    def cancel(self) -> None:  # noqa: B027 - optional hook, in-process work cannot be cut
        """Stop waiting (the server is stopping): calls in flight and later ones raise
        RunnerClosedError soon. Runners whose work runs in this process ignore it."""

    def close(self) -> None:  # noqa: B027 - optional hook, most runners hold nothing
        """Release what the runner holds (loaded models, connections)."""

    def check(self, experts: Sequence[ModelSpec]) -> dict[str, str]:
        """Readiness (/readyz): each check's name -> "ok" or "failed: why". Here: at least
        one of `experts` can load where this runner runs it (`check_expert`); runners that
        depend on more (a broker) add their own checks."""
        problems = []
        for spec in experts:
            try:
                self.check_expert(spec)
                return {"experts": "ok"}
            except BackendError as exc:
                problems.append(f"{spec.name}: {exc}")
        detail = f" ({'; '.join(problems)})" if problems else ""
        return {"experts": f"failed: no usable expert{detail}"}

    def check_expert(self, spec: ModelSpec) -> None:
        """Raise BackendError unless `spec` can load where this runner runs it. Here only
        its backend name is checked: the models load elsewhere (behind Celery, the workers)."""
        BACKENDS.check(spec.backend)
