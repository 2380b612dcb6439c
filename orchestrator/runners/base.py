"""The runner interface: execute groups of prompts somewhere and return their results."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from orchestrator.scheduler import Group, GroupResult

# (group index, request index in the group, new text): completions as they are decoded
GroupTextSink = Callable[[int, int, str], None]


class Runner(ABC):
    name: str = ""
    # whether `run` hands out text while decoding; the others return whole completions only
    streams: bool = False

    @abstractmethod
    def run(self, groups: list[Group], on_text: GroupTextSink | None = None) -> list[GroupResult]:
        """One result per group, in order. A failing group is reported, never raised.
        Runners that stream call `on_text` as completions are decoded; others ignore it."""

    def cancel(self) -> None:  # noqa: B027 - optional hook, in-process work cannot be cut
        """Stop waiting (the server is stopping): calls in flight and later ones raise
        RunnerClosedError soon. Runners whose work runs in this process ignore it."""

    def close(self) -> None:  # noqa: B027 - optional hook, most runners hold nothing
        """Release what the runner holds (loaded models, connections)."""
