"""The `skr_knn` gate: votes of the nearest labelled questions, with the real all-MiniLM-L6-v2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from orchestrator.errors import ConfigError
from orchestrator.factory import Deployment
from orchestrator.retrieval import GATES, GateContext
from orchestrator.retrieval.artifacts import GateArtifact, Judgement, LabelledSplit
from orchestrator.retrieval.skr import SkrKnnGate, knn_votes, label_codes
from orchestrator.settings import Settings
from orchestrator.trace import SkillTagging
from skills.embeddings import MiniLMEmbedder
from tests.minilm import minilm_or_skip

# Three topics: retrieval helped on the football questions, hurt on the cooking ones, and
# made no difference on the astronomy ones.
LABELLED: list[tuple[str, Judgement]] = [
    ("which country won the 1966 football world cup?", "ir_better"),
    ("who scored the winning goal in the 2010 world cup final?", "ir_better"),
    ("which team won the 2014 fifa world cup?", "ir_better"),
    ("how long should spaghetti be boiled?", "ir_worse"),
    ("what temperature do you bake bread at?", "ir_worse"),
    ("how much salt goes in pasta water?", "ir_worse"),
    ("what is the largest planet in the solar system?", "same"),
    ("how far is the moon from the earth?", "same"),
    ("what is a red giant star?", "same"),
]
NO_TAGS = SkillTagging(method="none")


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return minilm_or_skip()


def artifact(
    embedder: MiniLMEmbedder,
    k: int,
    labelled: list[tuple[str, Judgement]] = LABELLED,
    **changes: object,
) -> GateArtifact:
    questions = [q for q, _ in labelled]
    fields = {
        "gate": "skr_knn",
        "version": 1,
        "k": k,
        "embeddings": embedder.encode(questions),
        "labels": [label for _, label in labelled],
        "questions": questions,
        "split": LabelledSplit(
            source="constructed",
            sha256="0" * 64,
            seed=0,
            test_fraction=0.0,
            train=list(range(len(labelled))),
            test=[],
        ),
    }
    return GateArtifact.model_validate({**fields, **changes})


def gate(
    embedder: MiniLMEmbedder,
    k: int = 3,
    labelled: list[tuple[str, Judgement]] = LABELLED,
    **changes: object,
) -> SkrKnnGate:
    context = GateContext(embedder=embedder, artifact=artifact(embedder, k, labelled, **changes))
    built = GATES.create("skr_knn", context)
    assert isinstance(built, SkrKnnGate)
    return built


def test_retrieves_near_helped_questions_and_not_near_hurt_ones(embedder: MiniLMEmbedder) -> None:
    questions = [
        "who won the world cup in 1998?",
        "how many minutes do you cook penne pasta?",
    ]
    football, cooking = gate(embedder).decide(questions, [NO_TAGS, NO_TAGS])
    assert football.gate == "skr_knn" and football.retrieve
    assert football.scores["ir_better"] == 3 and football.scores["ir_worse"] == 0
    assert football.scores["k"] == 3 and 0.5 < football.scores["nearest_similarity"] <= 1.0
    assert football.reasons == [
        "skr_knn: 3 of 3 neighbours helped by retrieval, 0 hurt",
        "helped outvote hurt: retrieve",
    ]
    assert not cooking.retrieve
    assert cooking.scores["ir_worse"] == 3 and cooking.scores["ir_better"] == 0
    assert cooking.reasons[-1] == "hurt outvote helped: no retrieval"


def test_a_tie_does_not_retrieve_and_same_votes_for_neither(embedder: MiniLMEmbedder) -> None:
    # One helped and one hurt example, k=2: every query ties 1-1.
    tied = [LABELLED[0], LABELLED[3]]
    (decision,) = gate(embedder, k=2, labelled=tied).decide(["anything at all?"], [NO_TAGS])
    assert not decision.retrieve
    assert decision.reasons == [
        "skr_knn: 1 of 2 neighbours helped by retrieval, 1 hurt",
        "a tie keeps the experts alone: no retrieval",
    ]
    # Near the astronomy questions all votes are `same`: 0-0, no retrieval.
    (space,) = gate(embedder, k=3).decide(["what is the smallest planet?"], [NO_TAGS])
    assert not space.retrieve and space.scores["same"] == 3


def test_votes_count_helped_hurt_and_same_among_the_k_nearest() -> None:
    labels = label_codes(["ir_better", "ir_worse", "same", "ir_better"])
    similarities = np.array([[0.9, 0.8, 0.7, 0.1], [0.1, 0.9, 0.95, 0.2]], dtype=np.float32)
    votes = knn_votes(similarities, labels, k=3)
    assert votes.better.tolist() == [1, 1] and votes.worse.tolist() == [1, 1]
    assert votes.same.tolist() == [1, 1] and votes.retrieve().tolist() == [False, False]
    votes = knn_votes(similarities, labels, k=2)
    assert votes.better.tolist() == [1, 0] and votes.worse.tolist() == [1, 1]
    assert votes.nearest.tolist() == pytest.approx([0.9, 0.95])
    assert knn_votes(similarities, labels, k=10).better.tolist() == [2, 2]  # k capped at 4


def test_an_artifact_from_another_embedding_model_is_refused(embedder: MiniLMEmbedder) -> None:
    with pytest.raises(ConfigError, match=r"fitted with e5-base-v2 \(384 dimensions\).*refit"):
        gate(embedder, embedding_model="e5-base-v2")
    other_dim = np.ones((len(LABELLED), 768), dtype=np.float32)
    with pytest.raises(ConfigError, match=r"768 dimensions.*all-MiniLM-L6-v2 \(384\)"):
        gate(embedder, dim=768, embeddings=other_dim)


def test_no_fitted_artifact_names_the_fit_command(embedder: MiniLMEmbedder) -> None:
    with pytest.raises(ConfigError, match=r"run `symoe gate fit --gate skr_knn`"):
        GATES.create("skr_knn", GateContext(embedder=embedder))
    lookups: list[str] = []

    def nothing_stored(name: str) -> GateArtifact | None:
        lookups.append(name)
        return None

    with pytest.raises(ConfigError, match="no fitted artifact"):
        GATES.create("skr_knn", GateContext(embedder=embedder, artifacts=nothing_stored))
    assert lookups == ["skr_knn"]
    stored = artifact(embedder, 3)
    found = GATES.create("skr_knn", GateContext(embedder=embedder, artifacts=lambda _: stored))
    assert isinstance(found, SkrKnnGate) and found.artifact is stored
    with pytest.raises(ConfigError, match="needs a query embedder"):
        GATES.create("skr_knn", GateContext(artifact=stored))


def test_a_deployment_without_a_fitted_artifact_refuses_skr_knn(tmp_path: Path) -> None:
    deployment = Deployment(Settings(data_dir=tmp_path, retrieval_gate="skr_knn"))
    with pytest.raises(ConfigError, match=r"run `symoe gate fit --gate skr_knn`"):
        deployment.gate()
    assert Deployment(Settings(data_dir=tmp_path)).gate().name == "never"
