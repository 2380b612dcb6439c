"""The runner interface: execute groups of prompts somewhere and return their results."""

from __future__ import annotations

from abc import ABC, abstractmethod

from orchestrator.scheduler import Group, GroupResult


class Runner(ABC):
    name: str = ""

    @abstractmethod
    def run(self, groups: list[Group]) -> list[GroupResult]:
        """One result per group, in order. A failing group is reported, never raised."""

    def close(self) -> None:  # noqa: B027 - optional hook, most runners hold nothing
        """Release what the runner holds (loaded models, connections)."""
