"""Fitting the `learned` aggregator on validation answers: a conditional logit over each
question's candidate answers, where a candidate scores the sum, over the experts that gave
it, of that expert's weights times its answer's features (answer_features.py) and, where
cross-validation says it helps, a per-(expert, skill) vote weight for the question's skills.
Fitted by L-BFGS with an L2 penalty; the penalty and whether to use skill weights are chosen
by cross-validation (folds by question, so one question's answers never train and test at
once). The design is sparse: a skill vocabulary of hundreds times 22 experts stays small."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
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
    skills: Sequence[str] = field(default_factory=tuple)
    options: int = 2  # lettered options of a multiple-choice question; 2 for free answers


class _Design:
    """Questions as a sparse matrix with one row per (question, candidate slot), padded to
    the widest question; `mask` marks real candidates and `gold` the right one. Questions
    whose gold answer no expert gave teach nothing a vote can use and are left out."""

    def __init__(
        self,
        questions: Sequence[ValidationQuestion],
        experts: list[str],
        means: dict[str, float],
        skills: list[str],
    ) -> None:
        nf = len(FEATURES)
        col = {e: i * nf for i, e in enumerate(experts)}
        skill_col = {s: i for i, s in enumerate(skills)}
        base = len(experts) * nf
        kept = []
        for q in questions:
            cands = list(dict.fromkeys(a.extracted for a in q.answers if a.extracted is not None))
            if q.gold in cands:
                kept.append((q, cands))
        self.width = max((len(c) for _, c in kept), default=1)
        self.ids = [q.question_id for q, _ in kept]
        self.mask = np.zeros((len(kept), self.width), dtype=bool)
        self.gold = np.zeros(len(kept), dtype=int)
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for n, (q, cands) in enumerate(kept):
            self.mask[n, : len(cands)] = True
            self.gold[n] = cands.index(q.gold)
            q_skills = [skill_col[s] for s in dict.fromkeys(q.skills) if s in skill_col]
            for a in q.answers:
                if a.extracted is None or a.expert not in col:
                    continue
                row = n * self.width + cands.index(a.extracted)
                feats = answer_features(a.text, means[a.expert])
                rows.extend([row] * nf)
                cols.extend(range(col[a.expert], col[a.expert] + nf))
                vals.extend(feats)
                e = experts.index(a.expert)
                for s in q_skills:  # the vote, shared out over the question's skills
                    rows.append(row)
                    cols.append(base + e * len(skills) + s)
                    vals.append(1.0 / len(q_skills))
        shape = (len(kept) * self.width, base + len(experts) * len(skills))
        self.X = sparse.csr_matrix((vals, (rows, cols)), shape=shape)
        self.base = base

    def subset(self, keep: np.ndarray, with_skills: bool) -> _Part:
        rows = (keep[:, None] * self.width + np.arange(self.width)).ravel()
        X = self.X[rows]
        return _Part(X if with_skills else X[:, : self.base], self.mask[keep], self.gold[keep])


@dataclass
class _Part:
    X: sparse.csr_matrix
    mask: np.ndarray
    gold: np.ndarray

    def scores(self, w: np.ndarray) -> np.ndarray:
        return np.where(self.mask, (self.X @ w).reshape(self.mask.shape), -np.inf)

    def accuracy(self, w: np.ndarray) -> float:
        return float((self.scores(w).argmax(1) == self.gold).mean()) if len(self.gold) else 0.0


def _fit(part: _Part, l2: float) -> np.ndarray:
    n = len(part.gold)
    rows = np.arange(n)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        scores = part.scores(w)
        scores -= scores.max(1, keepdims=True)
        prob = np.where(part.mask, np.exp(scores), 0.0)
        prob /= prob.sum(1, keepdims=True)
        nll = -np.log(np.maximum(prob[rows, part.gold], 1e-300)).mean()
        prob[rows, part.gold] -= 1.0
        grad = part.X.T @ prob.ravel() / n + l2 * w
        return float(nll + 0.5 * l2 * w @ w), np.asarray(grad)

    result = minimize(loss, np.zeros(part.X.shape[1]), jac=True, method="L-BFGS-B")
    return np.asarray(result.x)


def fit_stacker(
    questions: Sequence[ValidationQuestion],
    folds: int = 5,
    l2_choices: Sequence[float] = L2_CHOICES,
) -> StackerWeights:
    """Per-expert feature weights (and per-skill vote weights where they help); the L2
    strength and the skill weights kept or not by cross-validated accuracy over all
    questions (one whose gold no expert gave counts as wrong)."""
    experts = sorted({a.expert for q in questions for a in q.answers})
    skills = sorted({s for q in questions for s in q.skills})
    lengths: dict[str, list[float]] = {e: [] for e in experts}
    for q in questions:
        for a in q.answers:
            lengths[a.expert].append(log_length(a.text))
    means = {e: float(np.mean(v)) if v else 0.0 for e, v in lengths.items()}
    design = _Design(questions, experts, means, skills)
    fold = np.array([fold_of(i, folds) for i in design.ids], dtype=int)
    everything = np.arange(len(design.ids))
    cv: dict[tuple[bool, float], float] = {}
    for with_skills in (False, True) if skills else (False,):
        for l2 in l2_choices:
            right = 0.0
            for f in range(folds):
                train, test = everything[fold != f], everything[fold == f]
                if len(train) and len(test):
                    w = _fit(design.subset(train, with_skills), l2)
                    right += design.subset(test, with_skills).accuracy(w) * len(test)
            cv[(with_skills, l2)] = right / max(len(questions), 1)
    # ties: without skill weights (fewer parameters), then the stronger penalty
    best = max(cv, key=lambda key: (round(cv[key], 9), not key[0], key[1]))
    with_skills, l2 = best
    w = _fit(design.subset(everything, with_skills), l2)
    per_expert = w[: design.base].reshape(len(experts), len(FEATURES))
    skill_votes: dict[str, dict[str, float]] = {}
    if with_skills:
        per_skill = w[design.base :].reshape(len(experts), len(skills))
        skill_votes = {
            e: {s: round(float(per_skill[i, j]), 6) for j, s in enumerate(skills)}
            for i, e in enumerate(experts)
        }
    return StackerWeights(
        features=list(FEATURES),
        experts={e: [round(float(x), 6) for x in per_expert[i]] for i, e in enumerate(experts)},
        skill_votes=skill_votes,
        length_mean={e: round(m, 6) for e, m in means.items()},
        l2=l2,
        cv_accuracy=round(cv[best], 6),
        cv={f"{'skills' if s else 'experts'} l2={v:g}": round(a, 6) for (s, v), a in cv.items()},
        questions=len(questions),
    )
