"""The retrieval gate interface: per query, retrieve documents or rely on the experts.

It runs in the planner after tagging and before recruitment, so a gate can weigh the
query's skills (and, through the profile, how well the experts cover them)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from orchestrator.trace import RetrievalDecision, SkillTagging
from skills.profiles import ProfileSet


class RetrievalGate(ABC):
    name: str = ""

    def __init__(self, profile: ProfileSet | None = None) -> None:
        self.profile = profile

    @abstractmethod
    def decide(self, questions: list[str], taggings: list[SkillTagging]) -> list[RetrievalDecision]:
        """One decision per question, in order, with its reasons."""


class NeverRetrieve(RetrievalGate):
    """The experts answer from what they know; nothing is retrieved."""

    name = "never"

    def decide(self, questions: list[str], taggings: list[SkillTagging]) -> list[RetrievalDecision]:
        return [
            RetrievalDecision(gate=self.name, retrieve=False, reasons=["gate 'never'"])
            for _ in questions
        ]


class AlwaysRetrieve(RetrievalGate):
    """Every query gets the top passages (the upper bound on retrieval cost)."""

    name = "always"

    def decide(self, questions: list[str], taggings: list[SkillTagging]) -> list[RetrievalDecision]:
        return [
            RetrievalDecision(gate=self.name, retrieve=True, reasons=["gate 'always'"])
            for _ in questions
        ]
