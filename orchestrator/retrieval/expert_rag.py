"""`expert_rag`: symoe's own gate. A logistic model over `features.FEATURES` (SKR's kNN vote,
the store's BM25 and dense signals, the query's skills and how well the experts' measured
profiles cover them) gives p(retrieval helps the experts); the gate retrieves when p reaches
the fitted threshold. Fitted by `symoe gate fit --gate expert_rag` (retrieval/expert_rag_fit.py)
on questions labelled by running the experts with and without retrieval."""

from __future__ import annotations

import numpy as np

from orchestrator.errors import ConfigError
from orchestrator.retrieval.features import FEATURES, feature_matrix
from orchestrator.retrieval.gate import GateContext
from orchestrator.retrieval.skr import SkrKnnGate, knn_votes
from orchestrator.trace import RetrievalDecision, SkillTagging

REASON_TERMS = 2  # the features that pushed a decision hardest, named in its reasons


class ExpertRagGate(SkrKnnGate):
    name = "expert_rag"

    def __init__(self, context: GateContext | None = None) -> None:
        super().__init__(context)
        model = self.artifact.logistic
        if model is None or tuple(model.features) != FEATURES:
            raise ConfigError(
                f"gate artifact {self.name}@v{self.artifact.version} holds no model over "
                f"this version's features: refit it with `symoe gate fit --gate {self.name}`"
            )
        self.model = model
        self.probe = self.context.need_probe(self.name)

    def decide(self, questions: list[str], taggings: list[SkillTagging]) -> list[RetrievalDecision]:
        if not questions:
            return []
        votes = knn_votes(self.embed(questions) @ self.artifact.embeddings.T, self.labels, self.k)
        x = feature_matrix(
            questions, taggings, votes, self.k, self.probe.signals(questions), self.profile
        )
        p = self.model.probability(x)
        terms = self.model.contributions(x)
        decisions = []
        for i, row in enumerate(x):
            retrieve = bool(p[i] >= self.model.threshold)
            strongest = np.argsort(-np.abs(terms[i]))[:REASON_TERMS]
            pushed = ", ".join(f"{FEATURES[j]} {terms[i, j]:+.2f}" for j in strongest)
            verdict = "retrieve" if retrieve else "no retrieval"
            decisions.append(
                RetrievalDecision(
                    gate=self.name,
                    retrieve=retrieve,
                    reasons=[
                        f"{self.name}: p(retrieval helps) = {p[i]:.2f}, threshold "
                        f"{self.model.threshold:.2f}: {verdict}",
                        f"strongest terms of the log-odds: {pushed}",
                    ],
                    scores={
                        "p_retrieve": float(p[i]),
                        **{name: float(v) for name, v in zip(FEATURES, row, strict=True)},
                        "artifact_version": float(self.artifact.version),
                    },
                )
            )
        return decisions
