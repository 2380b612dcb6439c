"""The `expert_rag` gate: its features, its logistic fit, and its decisions on constructed
cases over a real small corpus (HotpotQA paragraphs, the real bm25 and dense retrievers and
all-MiniLM-L6-v2): the answer in the store or not, a strong expert for the skill or none."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from orchestrator.errors import ConfigError, InputError
from orchestrator.retrieval import GATES, GateContext
from orchestrator.retrieval.artifacts import GateArtifact, Judgement, LogisticModel
from orchestrator.retrieval.expert_rag import ExpertRagGate
from orchestrator.retrieval.expert_rag_fit import (
    C_CANDIDATES,
    FeatureInputs,
    choose_by_gain,
    cross_validate_c,
    fit_expert_rag,
    fit_logistic,
    leave_one_out_votes,
)
from orchestrator.retrieval.features import FEATURES, feature_matrix, skill_accuracies
from orchestrator.retrieval.probe import SearchProbe, SearchSignals, summarise
from orchestrator.retrieval.retrievers import BM25Retriever, DenseRetriever
from orchestrator.retrieval.skr import Votes, label_codes
from orchestrator.retrieval.skr_fit import (
    LabelledQuestion,
    LabelledSet,
    held_out_scores,
    load_labels,
)
from orchestrator.retrieval.types import Chunk, SearchHit
from orchestrator.trace import SkillTagging
from skills.profiles import ProfileSet, SkillScore
from tests.orchestrator.retrieval.hotpot import UNRELATED, MemorySource, hotpot_corpus


def hit(chunk_id: int, score: float) -> SearchHit:
    chunk = Chunk(id=chunk_id, document_id=chunk_id, source="s", position=0, text="t", tokens=1)
    return SearchHit(chunk=chunk, score=score, rank=1, retriever="x")


def profile(accuracy: dict[str, float]) -> ProfileSet:
    """One expert measured on 10 questions per skill with the given accuracy."""
    return ProfileSet(
        name="p",
        experts={
            "alpha": {
                skill: SkillScore(score=round(10 * (2 * acc - 1)), count=10)
                for skill, acc in accuracy.items()
            }
        },
    )


def test_search_signals_summarise_both_rankings() -> None:
    signals = summarise(
        [hit(1, 8.0), hit(2, 2.0), hit(3, 1.0)], [hit(2, 0.9), hit(4, 0.6), hit(1, 0.5)]
    )
    assert signals.bm25_top == pytest.approx(np.log1p(8.0))
    assert signals.bm25_margin == pytest.approx(0.75)
    assert (signals.dense_top, signals.dense_margin) == pytest.approx((0.9, 0.3))
    assert signals.agreement == pytest.approx(2 / 5)  # ids 1 and 2 in both top fives
    assert summarise([], []) == SearchSignals()


def test_skill_accuracy_and_coverage_come_from_the_profile() -> None:
    measured = profile({"law": 0.9, "chemistry": 0.3})
    assert skill_accuracies(measured, ["law"]) == {"alpha": pytest.approx(0.9)}
    assert skill_accuracies(measured, ["law", "chemistry"]) == {"alpha": pytest.approx(0.6)}
    assert skill_accuracies(measured, ["poetry"]) == {}
    votes = Votes(
        better=np.array([2, 0]), worse=np.array([1, 3]), same=np.array([0, 0]),
        nearest=np.array([0.8, 0.4], dtype=np.float32),
    )  # fmt: skip
    taggings = [
        SkillTagging(
            method="t", skills=["law", "poetry"], similarities={"law": 0.5, "poetry": 0.4}
        ),
        SkillTagging(method="t"),
    ]
    x = feature_matrix(["q1", "a longer q2"], taggings, votes, 3, [SearchSignals()] * 2, measured)
    row = dict(zip(FEATURES, x[0], strict=True))
    assert x.shape == (2, len(FEATURES))
    assert row["knn_vote"] == pytest.approx(1 / 3) and x[1, 0] == pytest.approx(-1.0)
    assert (row["skills"], row["skill_similarity"], row["skill_coverage"]) == (2, 0.5, 0.5)
    assert row["best_skill_accuracy"] == pytest.approx(0.9)
    assert x[1, FEATURES.index("best_skill_accuracy")] == 0.0  # no skill: nothing measured


def test_the_logistic_fit_recovers_the_model_and_shrinks_with_a_smaller_c() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 2))
    true_coef, true_intercept = np.array([2.0, -1.0]), 0.5
    y = (rng.random(4000) < 1 / (1 + np.exp(-(x @ true_coef + true_intercept)))).astype(float)
    coef, intercept = fit_logistic(x, y, c=1e6)
    assert coef == pytest.approx(true_coef, abs=0.15)
    assert intercept == pytest.approx(true_intercept, abs=0.15)
    shrunk, _ = fit_logistic(x, y, c=1e-3)
    assert np.linalg.norm(shrunk) < 0.5 * np.linalg.norm(coef)
    scores = cross_validate_c(x, y, (1e-3, 1.0))
    assert set(scores) == {1e-3, 1.0} and all(0.5 < s <= 1.0 for s in scores.values())


def test_leave_one_out_votes_never_count_the_question_itself() -> None:
    # each vector is nearest to itself; among the others: a <-> b, and c -> b
    vectors = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
    codes = label_codes(["ir_better", "ir_worse", "ir_worse"])
    votes = leave_one_out_votes(vectors, codes, 1)
    assert votes.better.tolist() == [0, 1, 0] and votes.worse.tolist() == [1, 0, 1]


@pytest.fixture(scope="module")
def probe() -> SearchProbe:
    corpus = hotpot_corpus()
    source = MemorySource(corpus)
    for title in corpus.paragraphs:
        source.add(title)
    return SearchProbe(
        lambda: (BM25Retriever(source, corpus.embedder), DenseRetriever(source, corpus.embedder))
    )


def labelled_set(helped: list[str], hurt: list[str]) -> LabelledSet:
    judged: list[tuple[str, Judgement]] = [(q, "ir_better") for q in helped]
    judged += [(q, "ir_worse") for q in hurt]
    items = [LabelledQuestion(question=q, judgement=j) for q, j in judged]
    return LabelledSet(source="constructed", sha256="0" * 64, items=items)


def inputs(probe: SearchProbe, measured: ProfileSet | None = None) -> FeatureInputs:
    corpus = hotpot_corpus()
    return FeatureInputs(
        embed=corpus.embedder.encode,
        tag=lambda qs: [SkillTagging(method="none") for _ in qs],
        signals=probe.signals,
        profile=measured,
    )


def test_fitted_on_in_corpus_questions_it_retrieves_for_them_and_not_elsewhere(
    probe: SearchProbe,
) -> None:
    """Labels say retrieval helped exactly the questions the store can answer: the fitted
    gate learns that from the features and decides the held-out questions the same way."""
    corpus = hotpot_corpus()
    helped = [q.question for q in corpus.questions]
    labelled = labelled_set(helped, UNRELATED)
    artifact = fit_expert_rag(labelled, inputs(probe), k=3, test_fraction=0.25, seed=0)
    assert artifact.gate == "expert_rag" and artifact.logistic is not None
    assert artifact.logistic.features == list(FEATURES)
    assert len(artifact.labels) == 18 and len(artifact.split.test) == 6
    context = GateContext(embedder=corpus.embedder, artifact=artifact, probe=probe)
    gate = GATES.create("expert_rag", context)
    assert isinstance(gate, ExpertRagGate)
    held_out = [labelled.items[i] for i in artifact.split.test]
    decisions = gate.decide([i.question for i in held_out], [SkillTagging(method="none")] * 6)
    assert [d.retrieve for d in decisions] == [i.judgement == "ir_better" for i in held_out]
    first = decisions[0]
    assert 0.0 <= first.scores["p_retrieve"] <= 1.0 and set(FEATURES) <= set(first.scores)
    assert first.reasons[0].startswith("expert_rag: p(retrieval helps) = ")


def _hand_set_gate(probe: SearchProbe, measured: ProfileSet) -> ExpertRagGate:
    """A model that retrieves on a strong dense match unless a strong expert covers the
    skill: log-odds = 4 * (dense_top - 0.5) / 0.1 - 8 * (best_skill_accuracy - 0.5) / 0.1."""
    corpus = hotpot_corpus()
    coef = [0.0] * len(FEATURES)
    coef[FEATURES.index("dense_top")] = 4.0
    coef[FEATURES.index("best_skill_accuracy")] = -8.0
    mean = [0.0] * len(FEATURES)
    mean[FEATURES.index("dense_top")] = mean[FEATURES.index("best_skill_accuracy")] = 0.5
    scale = [1.0] * len(FEATURES)
    scale[FEATURES.index("dense_top")] = scale[FEATURES.index("best_skill_accuracy")] = 0.1
    model = LogisticModel(
        features=list(FEATURES), mean=mean, scale=scale, coef=coef, intercept=0.0, c=1.0
    )
    base = fit_expert_rag(
        labelled_set([q.question for q in corpus.questions], UNRELATED),
        inputs(probe), k=3, test_fraction=0.0, seed=0,
    )  # fmt: skip
    artifact = base.model_copy(update={"logistic": model})
    context = GateContext(
        embedder=corpus.embedder, artifact=artifact, probe=probe, profile=measured
    )
    built = GATES.create("expert_rag", context)
    assert isinstance(built, ExpertRagGate)
    return built


def test_a_strong_expert_for_the_skill_keeps_the_experts_alone(probe: SearchProbe) -> None:
    corpus = hotpot_corpus()
    measured = profile({"history": 0.95, "cooking": 0.5})
    gate = _hand_set_gate(probe, measured)
    question = corpus.questions[0].question
    tagged = [
        SkillTagging(method="t", skills=[s], similarities={s: 0.5}) for s in ("cooking", "history")
    ]
    weak, strong = gate.decide([question, question], tagged)
    assert weak.retrieve and weak.scores["dense_top"] > 0.5  # in the store, no strong expert
    assert not strong.retrieve  # the same question, an expert at 95% on its skill
    assert strong.scores["best_skill_accuracy"] == pytest.approx(0.95)
    unrelated = gate.decide([UNRELATED[0]], [tagged[0]])[0]
    assert not unrelated.retrieve and unrelated.scores["dense_top"] < 0.5


def test_held_out_scores_tag_the_questions_as_the_planner_does(
    probe: SearchProbe, tmp_path: Path
) -> None:
    """`gate eval`'s path: the labels file on disk, the held-out part, a tagger per batch."""
    corpus = hotpot_corpus()
    labelled = labelled_set([q.question for q in corpus.questions], UNRELATED)
    path = tmp_path / "labels.json"
    path.write_text(json.dumps([i.model_dump() for i in labelled.items]))
    artifact = fit_expert_rag(load_labels(path), inputs(probe), 3, 0.25, seed=0)
    context = GateContext(embedder=corpus.embedder, artifact=artifact, probe=probe)
    tagged: list[str] = []

    def tag(questions: list[str]) -> list[SkillTagging]:
        tagged.extend(questions)
        return [SkillTagging(method="t") for _ in questions]

    scores = held_out_scores(GATES.create("expert_rag", context), artifact.split, tag=tag)
    assert tagged == [labelled.items[i].question for i in artifact.split.test]
    assert scores["expert_rag"].n == 6 and scores["expert_rag"].accuracy == 1.0
    assert scores["never"].accuracy == 0.5 and scores["always"].retrieval_rate == 1.0


def test_bad_artifacts_and_too_few_labels_are_refused(probe: SearchProbe) -> None:
    corpus = hotpot_corpus()
    helped = [q.question for q in corpus.questions]
    with pytest.raises(InputError, match="at least 5 training questions labelled"):
        fit_expert_rag(labelled_set(helped, UNRELATED[:3]), inputs(probe), 3, 0.0, 0)
    artifact = fit_expert_rag(labelled_set(helped, UNRELATED), inputs(probe), 3, 0.0, 0)
    no_model = artifact.model_copy(update={"logistic": None})
    with pytest.raises(ConfigError, match="holds no model over this version's features"):
        GATES.create(
            "expert_rag", GateContext(embedder=corpus.embedder, artifact=no_model, probe=probe)
        )
    with pytest.raises(ConfigError, match="needs a document store to search"):
        GATES.create("expert_rag", GateContext(embedder=corpus.embedder, artifact=artifact))
    with pytest.raises(ConfigError, match="run `symoe gate fit --gate expert_rag`"):
        GATES.create("expert_rag", GateContext(embedder=corpus.embedder, probe=probe))
    assert isinstance(artifact, GateArtifact)


def test_the_threshold_is_chosen_to_add_the_most_answer_score() -> None:
    """One feature orders the questions; retrieval helps (+1) the top third, hurts (-1) the
    middle third and changes nothing for the rest: the chosen cut retrieves the top third."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 1))
    order = np.argsort(-x[:, 0])
    gains = np.zeros(90)
    gains[order[:30]], gains[order[30:60]] = 1.0, -1.0
    y = (gains > 0).astype(float)
    c, threshold, per_c = choose_by_gain(x, y, gains, seed=0)
    coef, intercept = fit_logistic(x, y, c)
    p = 1 / (1 + np.exp(-(x[:, 0] * coef[0] + intercept)))
    retrieved = p >= threshold
    assert gains[retrieved].sum() >= 27 and retrieved.sum() <= 33
    assert set(per_c) == set(C_CANDIDATES) and max(per_c.values()) > 0.25


def test_labels_with_answer_scores_fit_on_every_question_and_skip_the_same_ones(
    probe: SearchProbe,
) -> None:
    """From `gate label` files: retrieval helped the in-store questions and changed nothing
    for the unrelated ones (`same`), so the gate learns to retrieve for the first only."""
    corpus = hotpot_corpus()
    items = [
        LabelledQuestion(
            question=q.question, judgement="ir_better", without_retrieval=0.0, with_retrieval=0.6
        )
        for q in corpus.questions
    ] + [
        LabelledQuestion(question=q, judgement="same", without_retrieval=0.2, with_retrieval=0.2)
        for q in UNRELATED
    ]
    labelled = LabelledSet(source="constructed", sha256="0" * 64, items=items)
    artifact = fit_expert_rag(labelled, inputs(probe), k=3, test_fraction=0.25, seed=0)
    assert artifact.logistic is not None
    assert artifact.logistic.objective.startswith("mean answer-score gain")
    context = GateContext(embedder=corpus.embedder, artifact=artifact, probe=probe)
    gate = GATES.create("expert_rag", context)
    held_out = [labelled.items[i] for i in artifact.split.test]
    decisions = gate.decide([i.question for i in held_out], [SkillTagging(method="none")] * 6)
    assert [d.retrieve for d in decisions] == [i.judgement == "ir_better" for i in held_out]


@pytest.mark.parametrize(("hurt_by", "retrieves"), [(0.5, False), (0.01, True)])
def test_too_few_helped_questions_give_a_constant_gate_by_the_total_gain(
    probe: SearchProbe, hurt_by: float, retrieves: bool
) -> None:
    """Two helped questions (+0.3 each) cannot teach the features anything: the gate
    retrieves for all or none, whichever added more answer score on the training part."""
    corpus = hotpot_corpus()
    items = [
        LabelledQuestion(
            question=q.question, judgement="ir_better", without_retrieval=0.0, with_retrieval=0.3
        )
        for q in corpus.questions[:2]
    ] + [
        LabelledQuestion(
            question=q, judgement="ir_worse", without_retrieval=hurt_by, with_retrieval=0.0
        )
        for q in UNRELATED
    ]
    labelled = LabelledSet(source="constructed", sha256="0" * 64, items=items)
    artifact = fit_expert_rag(labelled, inputs(probe), k=3, test_fraction=0.0, seed=0)
    assert artifact.logistic is not None and artifact.logistic.objective.startswith(
        "constant: 2 of 14"
    )
    gate = GATES.create(
        "expert_rag", GateContext(embedder=corpus.embedder, artifact=artifact, probe=probe)
    )
    decisions = gate.decide(
        [corpus.questions[5].question, UNRELATED[0]], [SkillTagging(method="none")] * 2
    )
    assert [d.retrieve for d in decisions] == [retrieves, retrieves]
