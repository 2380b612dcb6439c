"""The retrieval gate interface: per query, retrieve documents or rely on the experts.

It runs in the planner after tagging and before recruitment, so a gate can weigh the
query's skills (and, through the profile, how well the experts cover them). Every gate is
built from one `GateContext`, so the registry builds each the same way."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.errors import ConfigError
from orchestrator.retrieval.artifacts import ArtifactLookup, GateArtifact
from orchestrator.trace import RetrievalDecision, SkillTagging
from skills.embeddings import Embedder
from skills.profiles import ProfileSet

if TYPE_CHECKING:  # the probe imports the retrievers, which import this package
    from orchestrator.retrieval.probe import SearchProbe


@dataclass(frozen=True)
class GateContext:
    """What a gate may use: the active profile set, the query embedder, its fitted artifact
    (`artifact` when one is loaded already, else looked up by gate name through `artifacts`,
    which the deployment points at the database), and a probe of the document store."""

    profile: ProfileSet | None = None
    embedder: Embedder | None = None
    artifacts: ArtifactLookup | None = None
    artifact: GateArtifact | None = None
    probe: SearchProbe | None = None

    def fitted(self, gate: str) -> GateArtifact:
        """The artifact of `gate`, or a ConfigError naming the command that fits it."""
        found = self.artifact if self.artifact is not None and self.artifact.gate == gate else None
        if found is None and self.artifacts is not None:
            found = self.artifacts(gate)
        if found is None:
            raise ConfigError(
                f"retrieval gate {gate!r} has no fitted artifact: "
                f"run `symoe gate fit --gate {gate}`"
            )
        return found

    def need_embedder(self, gate: str) -> Embedder:
        if self.embedder is None:
            raise ConfigError(f"retrieval gate {gate!r} needs a query embedder")
        return self.embedder

    def need_probe(self, gate: str) -> SearchProbe:
        if self.probe is None:
            raise ConfigError(f"retrieval gate {gate!r} needs a document store to search")
        return self.probe


class RetrievalGate(ABC):
    name: str = ""

    def __init__(self, context: GateContext | None = None) -> None:
        self.context = context or GateContext()

    @property
    def profile(self) -> ProfileSet | None:
        return self.context.profile

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
