"""Fitting and scoring gates on retrieval-need labels: the split, the scores, k by
cross-validation on the training part only, the labels file's errors. No model: the
vectors are constructed (one direction per label, plus noise)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from orchestrator.errors import ConfigError, InputError
from orchestrator.retrieval import GateContext
from orchestrator.retrieval.artifacts import Judgement
from orchestrator.retrieval.skr import SkrKnnGate
from orchestrator.retrieval.skr_fit import (
    best_k,
    cross_validate_k,
    fit_skr,
    held_out_scores,
    load_labels,
    score_decisions,
    stratified_split,
)

LABELS: list[Judgement] = ["same"] * 40 + ["ir_better"] * 10 + ["ir_worse"] * 10


def write_labels(path: Path, labels: list[Judgement] = LABELS) -> Path:
    rows = [{"question": f"{label} question {i}?", "judgement": label} for i, label in
            enumerate(labels)]  # fmt: skip
    path.write_text(json.dumps(rows))
    return path


def topic_vectors(questions: list[str]) -> npt.NDArray[np.float32]:
    """Questions of one label point the same way (with noise): neighbours share labels."""
    rng = np.random.default_rng(len(questions))
    axes = {"same": 0, "ir_better": 1, "ir_worse": 2}
    vectors = rng.normal(scale=0.3, size=(len(questions), 384)).astype(np.float32)
    for row, question in zip(vectors, questions, strict=True):
        row[axes[question.split()[0]]] += 3.0
    normed: npt.NDArray[np.float32] = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return normed


class TopicEmbedder:
    def encode(self, texts: list[str]) -> npt.NDArray[np.float32]:
        return topic_vectors(texts)


def test_the_split_is_stratified_seeded_and_disjoint() -> None:
    train, test = stratified_split(LABELS, 0.3, seed=0)
    assert sorted(train + test) == list(range(len(LABELS)))
    assert Counter(LABELS[i] for i in test) == {"same": 12, "ir_better": 3, "ir_worse": 3}
    assert stratified_split(LABELS, 0.3, seed=0) == (train, test)
    assert stratified_split(LABELS, 0.3, seed=1) != (train, test)
    assert stratified_split(LABELS, 0.0, seed=0) == (list(range(len(LABELS))), [])


def test_scores_count_same_as_dont_retrieve_and_apart() -> None:
    labels: list[Judgement] = ["same", "ir_better", "ir_worse", "same"]
    score = score_decisions([True, True, False, False], labels)
    assert (score.n, score.n_informative) == (4, 2)
    assert score.accuracy == 0.75 and score.informative_accuracy == 1.0
    assert score.retrieval_rate == 0.5
    never = score_decisions([False] * 4, labels)
    assert (never.accuracy, never.informative_accuracy, never.retrieval_rate) == (0.75, 0.5, 0.0)


def test_k_is_chosen_by_cross_validation_on_the_training_part() -> None:
    questions = [f"{label} q{i}" for i, label in enumerate(LABELS)]
    scores = cross_validate_k(topic_vectors(questions), LABELS, candidates=(1, 3, 5), seed=0)
    assert set(scores) == {1, 3, 5}
    assert all(s.informative_accuracy == 1.0 for s in scores.values())  # separable topics
    assert best_k(scores) == 1  # a tie: the smaller k
    scores[5] = scores[5].model_copy(update={"informative_accuracy": 1.5})
    assert best_k(scores) == 5


def test_fit_stores_the_split_and_the_gate_scores_the_held_out_part(tmp_path: Path) -> None:
    labelled = load_labels(write_labels(tmp_path / "labels.json"))
    embedded: list[int] = []

    def embed(questions: list[str]) -> npt.NDArray[np.float32]:
        embedded.append(len(questions))
        return topic_vectors(questions)

    artifact = fit_skr(labelled, embed, k=None, test_fraction=0.3, seed=0, command="fit")
    assert embedded == [42]  # only the training part is embedded
    assert artifact.labels == labelled.labels(artifact.split.train)
    assert set(artifact.k_scores) == {1, 3, 5, 7, 9, 11, 15, 21, 31} and artifact.k == 1
    assert artifact.split.sha256 == labelled.sha256 and len(artifact.split.test) == 18

    gate = SkrKnnGate(GateContext(embedder=TopicEmbedder(), artifact=artifact))
    advanced: list[int] = []
    scores = held_out_scores(gate, artifact.split, advanced.append)
    assert advanced == [18]
    assert scores["skr_knn"].accuracy == 1.0 and scores["skr_knn"].retrieval_rate == 3 / 18
    assert scores["never"].accuracy == 15 / 18 and scores["always"].accuracy == 3 / 18

    write_labels(tmp_path / "labels.json", LABELS[:-1])  # the file changed since the fit
    with pytest.raises(ConfigError, match="changed since the gate was fitted"):
        held_out_scores(gate, artifact.split)
    with pytest.raises(InputError, match="test-fraction"):
        fit_skr(labelled, embed, k=3, test_fraction=1.0, seed=0)


def test_bad_labels_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read labels"):
        load_labels(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    for content, message in (
        ("{not json", "not a list of"),
        ('{"question": "q"}', "expected a JSON list"),
        ('[{"question": "q", "judgement": "maybe"}]', "not a list of"),
        ("[]", "no labelled question"),
    ):
        bad.write_text(content)
        with pytest.raises(InputError, match=message):
            load_labels(bad)
