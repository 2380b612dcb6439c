"""Fitting and scoring gates on retrieval-need labels (`symoe gate fit` and `gate eval`).

Labels: a JSON list of {question, judgement} with judgement `same`, `ir_better` or
`ir_worse` (FlashRAG's skr_training.json). The correct decision is to retrieve exactly on
`ir_better`. On `same` retrieval neither helped nor hurt: it is scored twice, once over all
labels counting `same` as "don't retrieve" (retrieval is the costlier choice) and once over
the informative `ir_better`/`ir_worse` questions only."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field, ValidationError

from orchestrator.errors import ConfigError, InputError
from orchestrator.retrieval.artifacts import GateArtifact, Judgement, LabelledSplit
from orchestrator.retrieval.gate import RetrievalGate
from orchestrator.retrieval.skr import EMBED_BATCH, SkrKnnGate, knn_votes, label_codes
from orchestrator.trace import SkillTagging

K_CANDIDATES = (1, 3, 5, 7, 9, 11, 15, 21, 31)
CV_FOLDS = 5
Embed = Callable[[list[str]], npt.NDArray[np.float32]]


class LabelledQuestion(BaseModel):
    question: str = Field(min_length=1)
    judgement: Judgement
    # the answer scores without and with retrieval, when the labels came from two eval runs
    # (`symoe gate label`): what `expert_rag` chooses its threshold by
    without_retrieval: float | None = None
    with_retrieval: float | None = None

    def gain(self) -> float | None:
        if self.without_retrieval is None or self.with_retrieval is None:
            return None
        return self.with_retrieval - self.without_retrieval


class LabelledSet(BaseModel):
    source: str
    sha256: str
    items: list[LabelledQuestion]

    def questions(self, indices: Sequence[int]) -> list[str]:
        return [self.items[i].question for i in indices]

    def labels(self, indices: Sequence[int]) -> list[Judgement]:
        return [self.items[i].judgement for i in indices]

    def gains(self, indices: Sequence[int]) -> list[float] | None:
        """Each question's score gain from retrieval; None unless every one has scores."""
        gains = [self.items[i].gain() for i in indices]
        return None if any(g is None for g in gains) else [float(g or 0.0) for g in gains]


def load_labels(path: Path) -> LabelledSet:
    """The labelled questions of `path`; an InputError names what is wrong with it."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read labels {path}: {exc.strerror or exc}") from None
    try:
        rows = json.loads(raw)
        if not isinstance(rows, list):
            raise InputError(f"{path}: expected a JSON list of {{question, judgement}}")
        items = [LabelledQuestion.model_validate(r) for r in rows]
    except (json.JSONDecodeError, ValidationError) as exc:
        raise InputError(f"{path}: not a list of {{question, judgement}}: {exc}") from None
    if not items:
        raise InputError(f"{path}: no labelled question")
    return LabelledSet(source=str(path), sha256=hashlib.sha256(raw).hexdigest(), items=items)


def load_split_labels(split: LabelledSplit) -> LabelledSet:
    """The labels file an artifact was fitted from, unchanged since (checked by SHA-256)."""
    labelled = load_labels(Path(split.source))
    if labelled.sha256 != split.sha256:
        raise ConfigError(
            f"{split.source} changed since the gate was fitted (SHA-256 differs): refit it"
        )
    return labelled


def stratified_split(
    labels: Sequence[str], test_fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """(train, test) indices: each label's questions shuffled with `seed` and the first
    round(test_fraction * count) of them held out, so both parts keep the label mix."""
    rng = np.random.default_rng(seed)
    train: list[int] = []
    test: list[int] = []
    for label in sorted(set(labels)):
        members = [i for i, value in enumerate(labels) if value == label]
        rng.shuffle(members)
        cut = round(test_fraction * len(members))
        test += members[:cut]
        train += members[cut:]
    return sorted(train), sorted(test)


def labelled_split(labelled: LabelledSet, test_fraction: float, seed: int) -> LabelledSplit:
    """The seeded stratified split a gate is fitted on (train) and scored on (test)."""
    if not 0.0 <= test_fraction < 1.0:
        raise InputError(f"--test-fraction must be in [0, 1), got {test_fraction}")
    train, test = stratified_split([i.judgement for i in labelled.items], test_fraction, seed)
    return LabelledSplit(
        source=labelled.source,
        sha256=labelled.sha256,
        description=f"{len(labelled.items)} labelled questions ({Path(labelled.source).name})",
        seed=seed,
        test_fraction=test_fraction,
        train=train,
        test=test,
    )


class DecisionScore(BaseModel):
    """A gate's decisions against the labels."""

    n: int
    accuracy: float = Field(description="all labels; `same` counts as don't-retrieve")
    n_informative: int = Field(description="questions labelled ir_better or ir_worse")
    informative_accuracy: float = Field(description="on the ir_better/ir_worse questions only")
    retrieval_rate: float


def score_decisions(retrieve: Sequence[bool], labels: Sequence[Judgement]) -> DecisionScore:
    wanted = np.array([label == "ir_better" for label in labels])
    chosen = np.array(retrieve, dtype=bool)
    informative = np.array([label != "same" for label in labels])
    right = chosen == wanted
    return DecisionScore(
        n=len(labels),
        accuracy=float(right.mean()) if len(labels) else 0.0,
        n_informative=int(informative.sum()),
        informative_accuracy=float(right[informative].mean()) if informative.any() else 0.0,
        retrieval_rate=float(chosen.mean()) if len(labels) else 0.0,
    )


def cross_validate_k(
    vectors: npt.NDArray[np.float32],
    labels: list[Judgement],
    candidates: Sequence[int] = K_CANDIDATES,
    folds: int = CV_FOLDS,
    seed: int = 0,
) -> dict[int, DecisionScore]:
    """Each candidate k scored by stratified `folds`-fold cross-validation within the given
    (training) examples: every example is decided by neighbours from the other folds."""
    codes = label_codes(labels)
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(labels), dtype=np.int64)
    for label in sorted(set(labels)):  # each label dealt round-robin over the folds
        members = [i for i, value in enumerate(labels) if value == label]
        rng.shuffle(members)
        fold_of[members] = np.arange(len(members)) % folds
    similarities = vectors @ vectors.T
    scores: dict[int, DecisionScore] = {}
    for k in candidates:
        decided = np.zeros(len(labels), dtype=bool)
        for fold in range(folds):
            held, rest = fold_of == fold, fold_of != fold
            if not held.any() or rest.sum() < k:
                continue
            votes = knn_votes(similarities[np.ix_(held, rest)], codes[rest], k)
            decided[held] = votes.retrieve()
        scores[k] = score_decisions(decided.tolist(), labels)
    return scores


def best_k(scores: dict[int, DecisionScore]) -> int:
    """The k with the best accuracy on the informative questions (all-label accuracy mostly
    rewards retrieving rarely, which `never` does best); ties: then all-label accuracy, then
    the smaller k."""
    return max(scores, key=lambda k: (scores[k].informative_accuracy, scores[k].accuracy, -k))


def fit_skr(
    labelled: LabelledSet,
    embed: Embed,
    k: int | None,
    test_fraction: float,
    seed: int,
    command: str = "",
) -> GateArtifact:
    """An `skr_knn` artifact over the training part of a seeded stratified split; k given,
    or chosen by cross-validation on the training part (never on the held-out part)."""
    split = labelled_split(labelled, test_fraction, seed)
    questions, train_labels = labelled.questions(split.train), labelled.labels(split.train)
    vectors = embed(questions)
    k_scores = {} if k is not None else cross_validate_k(vectors, train_labels, seed=seed)
    chosen = k if k is not None else best_k(k_scores)
    return GateArtifact(
        gate=SkrKnnGate.name,
        k=chosen,
        k_scores={c: s.informative_accuracy for c, s in k_scores.items()},
        embeddings=vectors,
        labels=train_labels,
        questions=questions,
        split=split,
        command=command,
    )


Tag = Callable[[list[str]], list[SkillTagging]]


def no_skills(questions: list[str]) -> list[SkillTagging]:
    return [SkillTagging(method="none") for _ in questions]


def held_out_scores(
    gate: RetrievalGate,
    split: LabelledSplit,
    advance: Callable[[int], None] | None = None,
    tag: Tag = no_skills,
) -> dict[str, DecisionScore]:
    """`gate`'s decisions on the held-out questions of `split` (tagged by `tag`, as the
    planner would), beside the `never` and `always` baselines on the same questions.
    `advance(n)` after each batch (a progress bar)."""
    if not split.test:
        raise InputError("the artifact holds no question out (fitted with --test-fraction 0)")
    labelled = load_split_labels(split)
    questions, labels = labelled.questions(split.test), labelled.labels(split.test)
    retrieve: list[bool] = []
    for start in range(0, len(questions), EMBED_BATCH):
        batch = questions[start : start + EMBED_BATCH]
        retrieve += [d.retrieve for d in gate.decide(batch, tag(batch))]
        if advance is not None:
            advance(len(batch))
    return {
        gate.name: score_decisions(retrieve, labels),
        "never": score_decisions([False] * len(labels), labels),
        "always": score_decisions([True] * len(labels), labels),
    }
