"""`skr_knn`: SKR's kNN gate (Wang et al. 2023, "Self-Knowledge guided Retrieval").

Each query is compared by cosine with labelled questions (whether retrieval helped the LLM
answer them: `ir_better`, `ir_worse` or `same`); its k nearest vote. The gate retrieves when
more neighbours were helped by retrieval than hurt by it. `same` neighbours vote for neither
side, as in SKR. A tie (including no informative neighbour at all) does not retrieve: the
experts answer alone, which costs nothing extra. (FlashRAG's SKRJudger breaks ties by the
training set's own balance instead; on its skr_training.json, with more `ir_worse` than
`ir_better`, that retrieves on every tie, so nearly always.)"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from orchestrator.errors import ConfigError
from orchestrator.retrieval.artifacts import JUDGEMENTS, GateArtifact, Judgement
from orchestrator.retrieval.gate import GateContext, RetrievalGate
from orchestrator.trace import RetrievalDecision, SkillTagging
from skills.embeddings import Embedder

EMBED_BATCH = 64  # questions per encode call: bounded memory for a large batch of queries

Labels = npt.NDArray[np.int64]  # indices into JUDGEMENTS
_SAME, _BETTER, _WORSE = (JUDGEMENTS.index(j) for j in ("same", "ir_better", "ir_worse"))


def label_codes(labels: list[Judgement]) -> Labels:
    return np.array([JUDGEMENTS.index(label) for label in labels], dtype=np.int64)


@dataclass(frozen=True)
class Votes:
    """Per query: how many of its k nearest labelled questions retrieval helped, hurt or left
    the same, and the cosine similarity of the nearest one."""

    better: npt.NDArray[np.int64]
    worse: npt.NDArray[np.int64]
    same: npt.NDArray[np.int64]
    nearest: npt.NDArray[np.float32]

    def retrieve(self) -> npt.NDArray[np.bool_]:
        """SKR's rule: helped outvotes hurt; a tie does not retrieve."""
        result: npt.NDArray[np.bool_] = self.better > self.worse
        return result


def knn_votes(similarities: npt.NDArray[np.float32], labels: Labels, k: int) -> Votes:
    """The votes of each row's `k` most similar columns (`similarities`: queries x examples;
    `labels`: one code per example)."""
    k = min(k, similarities.shape[1])
    if k < 1:
        raise ValueError("no labelled example to vote")
    nearest = np.argpartition(-similarities, k - 1, axis=1)[:, :k]
    voted = labels[nearest]
    return Votes(
        better=(voted == _BETTER).sum(axis=1),
        worse=(voted == _WORSE).sum(axis=1),
        same=(voted == _SAME).sum(axis=1),
        nearest=similarities.max(axis=1).astype(np.float32),
    )


def embed_questions(
    embedder: Embedder, questions: list[str], artifact: GateArtifact
) -> npt.NDArray[np.float32]:
    """The questions' vectors in batches of EMBED_BATCH (bounded memory); refused when their
    size differs from the artifact's examples'."""
    parts = [
        embedder.encode(questions[i : i + EMBED_BATCH])
        for i in range(0, len(questions), EMBED_BATCH)
    ]
    vectors = np.concatenate(parts) if parts else np.zeros((0, artifact.dim), np.float32)
    if vectors.shape[1] != artifact.dim:
        raise ConfigError(
            f"the query embedder returns {vectors.shape[1]} dimensions; gate artifact "
            f"{artifact.gate}@v{artifact.version} has {artifact.dim}"
        )
    return vectors.astype(np.float32, copy=False)


def _reason(name: str, k: int, better: int, worse: int, retrieve: bool) -> list[str]:
    votes = f"{name}: {better} of {k} neighbours helped by retrieval, {worse} hurt"
    if retrieve:
        return [votes, "helped outvote hurt: retrieve"]
    why = "a tie keeps the experts alone" if better == worse else "hurt outvote helped"
    return [votes, f"{why}: no retrieval"]


class SkrKnnGate(RetrievalGate):
    """Votes of the k nearest labelled questions in the stored `skr_knn` artifact."""

    name = "skr_knn"

    def __init__(self, context: GateContext | None = None) -> None:
        super().__init__(context)
        # Both checks run when the gate is built, so a deployment without a fitted artifact
        # or an embedder fails at start-up, not on the first query.
        self.artifact = self.context.fitted(self.name)
        self.artifact.check_embedding()
        self.embedder = self.context.need_embedder(self.name)
        self.labels = label_codes(self.artifact.labels)
        self.k = min(self.artifact.k, len(self.labels))
        if self.k < 1:
            raise ConfigError(f"gate artifact {self.name}@v{self.artifact.version} is empty")

    def embed(self, questions: list[str]) -> npt.NDArray[np.float32]:
        return embed_questions(self.embedder, questions, self.artifact)

    def decide(self, questions: list[str], taggings: list[SkillTagging]) -> list[RetrievalDecision]:
        if not questions:
            return []
        votes = knn_votes(self.embed(questions) @ self.artifact.embeddings.T, self.labels, self.k)
        decisions = []
        for i, retrieve in enumerate(votes.retrieve().tolist()):
            better, worse = int(votes.better[i]), int(votes.worse[i])
            decisions.append(
                RetrievalDecision(
                    gate=self.name,
                    retrieve=retrieve,
                    reasons=_reason(self.name, self.k, better, worse, retrieve),
                    scores={
                        "k": float(self.k),
                        "ir_better": float(better),
                        "ir_worse": float(worse),
                        "same": float(votes.same[i]),
                        "nearest_similarity": float(votes.nearest[i]),
                        "artifact_version": float(self.artifact.version),
                    },
                )
            )
        return decisions
