"""Fitting `expert_rag` (`symoe gate fit --gate expert_rag`) on retrieval-need labels.

On the training part of a seeded stratified split: k is chosen as for `skr_knn`; each
training question's kNN vote is taken over the other training questions (leave one out, so
no question votes for itself); the logistic model learns helped (1) against hurt (0) from
the informative questions, as SKR's vote does, with its L2 strength chosen by
cross-validation on the same part. The held-out part is only scored, by `symoe gate eval`.

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


def cross_validate_c(
    x: Matrix, y: Vector, candidates: Sequence[float] = C_CANDIDATES, seed: int = 0
) -> dict[float, float]:
    """Each candidate c's accuracy by stratified CV_FOLDS-fold cross-validation."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), dtype=np.int64)
    for label in (0.0, 1.0):
        members = np.flatnonzero(y == label)
        rng.shuffle(members)
        fold_of[members] = np.arange(len(members)) % CV_FOLDS
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
    train_labels = labelled.labels(split.train)
    informative = np.array([label != "same" for label in train_labels])
    y = np.array([label == "ir_better" for label in train_labels], dtype=np.float64)[informative]
    if min(int(y.sum()), int((1 - y).sum())) < CV_FOLDS:
        raise InputError(
            f"expert_rag needs at least {CV_FOLDS} training questions labelled ir_better and "
            f"{CV_FOLDS} ir_worse (got {int(y.sum())} and {int((1 - y).sum())}): label more "
            "questions, or lower --test-fraction"
        )
    knn = fit_skr(labelled, inputs.embed, k, test_fraction, seed, command)
    votes = leave_one_out_votes(knn.embeddings, label_codes(knn.labels), knn.k)
    x = feature_matrix(
        knn.questions,
        inputs.tag(knn.questions),
        votes,
        knn.k,
        inputs.signals(knn.questions),
        inputs.profile,
    )[informative]
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0.0] = 1.0  # a constant feature: left at zero after standardising
    standard = (x - mean) / scale
    c_scores = cross_validate_c(standard, y, seed=seed)
    c = max(c_scores, key=lambda cand: (c_scores[cand], -cand))  # ties: the stronger penalty
    coef, intercept = fit_logistic(standard, y, c)
    model = LogisticModel(
        features=list(FEATURES),
        mean=mean.tolist(),
        scale=scale.tolist(),
        coef=coef.tolist(),
        intercept=intercept,
        c=c,
        c_scores={str(cand): acc for cand, acc in c_scores.items()},
    )
    return knn.model_copy(update={"gate": ExpertRagGate.name, "logistic": model})
