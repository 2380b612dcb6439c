"""Fitting `expert_rag` (`symoe gate fit --gate expert_rag`) on retrieval-need labels.

On the training part of a seeded stratified split: k is chosen as for `skr_knn`; each
training question's kNN vote is taken over the other training questions (leave one out, so
no question votes for itself). When the labels carry each question's answer scores without
and with retrieval (`symoe gate label` writes them), the logistic model learns p(retrieval
helps) over every training question, and its L2 strength and retrieval threshold are chosen
together by cross-validation to add the most answer score (retrieval that changes nothing
is not paid for). Without scores (e.g. SKR's labels) it learns helped against hurt from the
informative questions, as SKR's vote does, at threshold 0.5. The held-out part is only
scored, by `symoe gate eval`.

The model is a small convex fit (13 features, hundreds of rows), solved exactly by Newton's
method in numpy: scikit-learn would add scipy to the default install for it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from orchestrator.errors import InputError
from orchestrator.retrieval.artifacts import GateArtifact, LogisticModel
from orchestrator.retrieval.expert_rag import ExpertRagGate
from orchestrator.retrieval.features import FEATURES, feature_matrix
from orchestrator.retrieval.probe import SearchSignals
from orchestrator.retrieval.skr import Labels, Votes, knn_votes, label_codes
from orchestrator.retrieval.skr_fit import CV_FOLDS, Embed, LabelledSet, fit_skr, labelled_split
from orchestrator.trace import SkillTagging
from skills.profiles import ProfileSet

C_CANDIDATES = (0.01, 0.1, 1.0, 10.0)
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 20))  # p(helped) cut-offs tried
NEWTON_STEPS = 50
Matrix = npt.NDArray[np.float64]
Vector = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FeatureInputs:
    """How the deployment sees a question: embedded, tagged, and its store searched."""

    embed: Embed
    tag: Callable[[list[str]], list[SkillTagging]]
    signals: Callable[[list[str]], list[SearchSignals]]
    profile: ProfileSet | None


def fit_logistic(x: Matrix, y: Vector, c: float) -> tuple[Vector, float]:
    """(coef, intercept) minimising the log-loss plus |coef|^2 / (2c) (the intercept is not
    penalised), by Newton's method: the loss is convex, so it converges to the optimum."""
    design = np.hstack([x, np.ones((len(x), 1))])
    penalty = np.eye(design.shape[1]) / c
    penalty[-1, -1] = 0.0
    w = np.zeros(design.shape[1])
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-(design @ w)))
        gradient = design.T @ (p - y) + penalty @ w
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def _predict(x: Matrix, coef: Vector, intercept: float) -> npt.NDArray[np.bool_]:
    result: npt.NDArray[np.bool_] = x @ coef + intercept >= 0.0  # p >= 0.5
    return result


def _folds(y: Vector, seed: int) -> npt.NDArray[np.int64]:
    """A stratified fold number per row (each class dealt round-robin after a seeded shuffle)."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), dtype=np.int64)
    for label in (0.0, 1.0):
        members = np.flatnonzero(y == label)
        rng.shuffle(members)
        fold_of[members] = np.arange(len(members)) % CV_FOLDS
    return fold_of


def cross_validate_c(
    x: Matrix, y: Vector, candidates: Sequence[float] = C_CANDIDATES, seed: int = 0
) -> dict[float, float]:
    """Each candidate c's accuracy by stratified CV_FOLDS-fold cross-validation."""
    fold_of = _folds(y, seed)
    scores: dict[float, float] = {}
    for c in candidates:
        right = 0
        for fold in range(CV_FOLDS):
            held = fold_of == fold
            if not held.any():
                continue
            coef, intercept = fit_logistic(x[~held], y[~held], c)
            right += int((_predict(x[held], coef, intercept) == (y[held] == 1.0)).sum())
        scores[c] = right / len(y)
    return scores


def leave_one_out_votes(vectors: npt.NDArray[np.float32], codes: Labels, k: int) -> Votes:
    """Each example's votes among the other examples (none votes for itself)."""
    similarities = vectors @ vectors.T
    np.fill_diagonal(similarities, -np.inf)
    return knn_votes(similarities, codes, min(k, len(codes) - 1))


def out_of_fold_p(x: Matrix, y: Vector, c: float, seed: int) -> Vector:
    """Each row's p(y=1) from a model fitted on the other folds."""
    fold_of = _folds(y, seed)
    p = np.zeros(len(y))
    for fold in range(CV_FOLDS):
        held = fold_of == fold
        if held.any():
            coef, intercept = fit_logistic(x[~held], y[~held], c)
            p[held] = 1.0 / (1.0 + np.exp(-(x[held] @ coef + intercept)))
    return p


def choose_by_gain(
    x: Matrix, y: Vector, gains: Vector, seed: int
) -> tuple[float, float, dict[float, float]]:
    """(c, threshold, best mean gain per c): the pair whose out-of-fold decisions (retrieve
    when p >= threshold) add the most answer score over the training questions; among equal
    gains, the one that retrieves less, then the stronger penalty."""
    best: tuple[float, int, float] | None = None
    chosen = (C_CANDIDATES[0], THRESHOLDS[-1])
    per_c: dict[float, float] = {}
    for c in C_CANDIDATES:
        p = out_of_fold_p(x, y, c, seed)
        for t in THRESHOLDS:
            retrieve = p >= t
            # rounded: sums of the same gains over subsets with extra zeros differ in the
            # last bits, which must not outrank retrieving less
            key = (round(float(gains[retrieve].sum()), 9), -int(retrieve.sum()), -c)
            per_c[c] = max(per_c.get(c, -np.inf), key[0] / len(y))
            if best is None or key > best:
                best, chosen = key, (c, t)
    return chosen[0], chosen[1], per_c


def constant_model(y: Vector, gains: Vector) -> LogisticModel:
    """Too few questions on one side to learn from features: a gate that retrieves for every
    query or for none, whichever added more answer score over the training questions."""
    retrieve_all = float(gains.sum()) > 0.0
    n = len(FEATURES)
    return LogisticModel(
        features=list(FEATURES),
        mean=[0.0] * n,
        scale=[1.0] * n,
        coef=[0.0] * n,
        intercept=0.0,  # p = 0.5 for every query
        threshold=0.05 if retrieve_all else 0.95,
        c=1.0,
        objective=(
            f"constant: {int(y.sum())} of {len(y)} training questions helped by retrieval, too "
            f"few to fit; it {'added' if retrieve_all else 'did not add'} answer score overall"
        ),
    )


def _training_rows(
    labelled: LabelledSet, train: list[int], gains: list[float] | None
) -> tuple[npt.NDArray[np.bool_], Vector]:
    """Which training rows the model learns from, and their targets. With answer scores:
    every question, helped (1) against not helped (0). Without: as SKR, the informative
    questions only, helped (1) against hurt (0)."""
    labels = labelled.labels(train)
    helped = np.array([label == "ir_better" for label in labels], dtype=np.float64)
    rows = (
        np.ones(len(labels), dtype=bool)
        if gains
        else helped.astype(bool) | np.array([label == "ir_worse" for label in labels])
    )
    y = helped[rows]
    if not gains and min(int(y.sum()), int((1 - y).sum())) < CV_FOLDS:
        raise InputError(
            f"expert_rag needs at least {CV_FOLDS} training questions labelled ir_better and "
            f"{CV_FOLDS} ir_worse (got {int(y.sum())} and {int((1 - y).sum())}): label more "
            "questions, or lower --test-fraction"
        )
    return rows, y


def fit_expert_rag(
    labelled: LabelledSet,
    inputs: FeatureInputs,
    k: int | None,
    test_fraction: float,
    seed: int,
    command: str = "",
) -> GateArtifact:
    """An `expert_rag` artifact: `skr_knn`'s (the same split, examples and k) with the
    logistic model fitted over the training questions' features."""
    split = labelled_split(labelled, test_fraction, seed)
    gains = labelled.gains(split.train)
    rows, y = _training_rows(labelled, split.train, gains)
    knn = fit_skr(labelled, inputs.embed, k, test_fraction, seed, command)
    votes = leave_one_out_votes(knn.embeddings, label_codes(knn.labels), knn.k)
    x = feature_matrix(
        knn.questions,
        inputs.tag(knn.questions),
        votes,
        knn.k,
        inputs.signals(knn.questions),
        inputs.profile,
    )[rows]
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0.0] = 1.0  # a constant feature: left at zero after standardising
    standard = (x - mean) / scale
    fittable = min(int(y.sum()), int((1 - y).sum())) >= CV_FOLDS
    if gains is not None and not fittable:
        return knn.model_copy(
            update={"gate": ExpertRagGate.name, "logistic": constant_model(y, np.array(gains))}
        )
    if gains is not None:
        c, threshold, c_scores = choose_by_gain(standard, y, np.array(gains), seed)
        objective = "mean answer-score gain (out-of-fold decisions)"
    else:
        c_scores = cross_validate_c(standard, y, seed=seed)
        c = max(c_scores, key=lambda cand: (c_scores[cand], -cand))  # ties: stronger penalty
        threshold, objective = 0.5, "ir_better/ir_worse accuracy"
    coef, intercept = fit_logistic(standard, y, c)
    model = LogisticModel(
        features=list(FEATURES),
        mean=mean.tolist(),
        scale=scale.tolist(),
        coef=coef.tolist(),
        intercept=intercept,
        threshold=threshold,
        c=c,
        c_scores={str(cand): score for cand, score in c_scores.items()},
        objective=objective,
    )
    return knn.model_copy(update={"gate": ExpertRagGate.name, "logistic": model})
