"""Fitting the `learned` aggregator on validation answers: a conditional logit over each
question's candidate answers, where a candidate scores the sum, over the experts that gave
it, of that expert's weights times its answer's features (answer_features.py). Fitted by
L-BFGS with an L2 penalty chosen by cross-validation (folds by question, so one question's
answers never train and test at once)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from orchestrator.aggregators.answer_features import FEATURES, answer_features, log_length
from skills.profiles import StackerWeights
from skills.smoothing import fold_of

L2_CHOICES: tuple[float, ...] = (1e-4, 1e-3, 1e-2)


@dataclass(frozen=True)
class ValidationAnswer:
    expert: str
    text: str
    extracted: str | None


@dataclass(frozen=True)
class ValidationQuestion:
    question_id: str
    gold: str
    answers: Sequence[ValidationAnswer]


class _Design:
    """Questions as a padded tensor: X[question, candidate, expert * feature], with a mask of
    real candidates and the gold candidate's index. Questions whose gold answer no expert
    gave teach nothing a vote can use and are left out."""

    def __init__(
        self, questions: Sequence[ValidationQuestion], experts: list[str], means: dict[str, float]
    ) -> None:
        col = {e: i * len(FEATURES) for i, e in enumerate(experts)}
        kept = []
        for q in questions:
            cands = list(dict.fromkeys(a.extracted for a in q.answers if a.extracted is not None))
            if q.gold in cands:
                kept.append((q, cands))
        width = max((len(c) for _, c in kept), default=1)
        self.ids = [q.question_id for q, _ in kept]
        self.X = np.zeros((len(kept), width, len(experts) * len(FEATURES)))
        self.mask = np.zeros((len(kept), width), dtype=bool)
        self.gold = np.zeros(len(kept), dtype=int)
        for n, (q, cands) in enumerate(kept):
            self.mask[n, : len(cands)] = True
            self.gold[n] = cands.index(q.gold)
            for a in q.answers:
                if a.extracted is None or a.expert not in col:
                    continue
                c, start = cands.index(a.extracted), col[a.expert]
                feats = answer_features(a.text, means[a.expert])
                self.X[n, c, start : start + len(FEATURES)] += feats

    def subset(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.X[rows], self.mask[rows], self.gold[rows]


def _fit(X: np.ndarray, mask: np.ndarray, gold: np.ndarray, l2: float) -> np.ndarray:
    n = len(gold)
    rows = np.arange(n)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        scores = np.where(mask, X @ w, -np.inf)
        scores -= scores.max(1, keepdims=True)
        prob = np.where(mask, np.exp(scores), 0.0)
        prob /= prob.sum(1, keepdims=True)
        nll = -np.log(np.maximum(prob[rows, gold], 1e-300)).mean()
        target = np.zeros_like(prob)
        target[rows, gold] = 1.0
        grad = np.einsum("nc,ncf->f", prob - target, X) / n + l2 * w
        return float(nll + 0.5 * l2 * w @ w), grad

    result = minimize(loss, np.zeros(X.shape[2]), jac=True, method="L-BFGS-B")
    return np.asarray(result.x)


def _accuracy(w: np.ndarray, X: np.ndarray, mask: np.ndarray, gold: np.ndarray) -> float:
    scores = np.where(mask, X @ w, -np.inf)
    return float((scores.argmax(1) == gold).mean()) if len(gold) else 0.0


def fit_stacker(
    questions: Sequence[ValidationQuestion],
    folds: int = 5,
    l2_choices: Sequence[float] = L2_CHOICES,
) -> StackerWeights:
    """Per-expert feature weights; the L2 strength with the best cross-validated accuracy
    over all questions (one whose gold no expert gave counts as wrong)."""
    experts = sorted({a.expert for q in questions for a in q.answers})
    lengths: dict[str, list[float]] = {e: [] for e in experts}
    for q in questions:
        for a in q.answers:
            lengths[a.expert].append(log_length(a.text))
    means = {e: float(np.mean(v)) if v else 0.0 for e, v in lengths.items()}
    design = _Design(questions, experts, means)
    fold = np.array([fold_of(i, folds) for i in design.ids])
    cv: dict[float, float] = {}
    for l2 in l2_choices:
        right = 0.0
        for f in range(folds):
            train, test = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
            if len(train) and len(test):
                w = _fit(*design.subset(train), l2)
                right += _accuracy(w, *design.subset(test)) * len(test)
        cv[l2] = right / max(len(questions), 1)
    best = max(l2_choices, key=lambda l2: (cv[l2], l2))
    w = _fit(design.X, design.mask, design.gold, best)
    per_expert = w.reshape(len(experts), len(FEATURES))
    return StackerWeights(
        features=list(FEATURES),
        experts={e: [round(float(x), 6) for x in per_expert[i]] for i, e in enumerate(experts)},
        length_mean={e: round(m, 6) for e, m in means.items()},
        l2=best,
        cv_accuracy=round(cv[best], 6),
        questions=len(questions),
    )
