"""Choosing the Beta-prior strength of per-skill accuracy by cross-validation: the strength
whose smoothed accuracies best predict held-out answers (mean Bernoulli log-likelihood)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

from skills.profiles import DEFAULT_SMOOTHING, GradedAnswer, build_profiles, smoothed

# candidate strengths: 0 is the raw per-skill accuracy, a very large one the global accuracy
STRENGTHS: tuple[float, ...] = (0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 1e6)
_CLIP = 1e-3  # a probability of exactly 0 or 1 would make one surprise infinitely costly


def fold_of(question_id: str, folds: int) -> int:
    """A question's fold, by a stable hash: all experts' answers to it fall in one fold."""
    return int(hashlib.sha1(question_id.encode()).hexdigest(), 16) % folds


def held_out_log_likelihood(
    graded: Sequence[GradedAnswer], strengths: Sequence[float], folds: int = 5
) -> dict[float, float]:
    """Per strength, the mean log-likelihood of each held-out answer's correctness under the
    accuracy its expert's profile (built on the other folds) expects for its skills."""
    total = dict.fromkeys(strengths, 0.0)
    n = 0
    for fold in range(folds):
        train = [g for g in graded if fold_of(g.question_id, folds) != fold]
        test = [g for g in graded if fold_of(g.question_id, folds) == fold]
        if not train or not test:
            continue
        profiles, accuracy = build_profiles(train)  # once per fold, for every strength
        for g in test:
            prior = accuracy.get(g.expert, 0.5)
            scores = profiles.get(g.expert, {})
            seen = [scores[s] for s in dict.fromkeys(g.skills) if s in scores]
            n += 1
            for strength in strengths:
                p = sum(smoothed(s, prior, strength) for s in seen) / len(seen) if seen else prior
                p = min(max(p, _CLIP), 1 - _CLIP)
                total[strength] += math.log(p if g.correct else 1 - p)
    # no fold had both sides (a handful of questions): nothing to compare, no scores
    return {s: v / n for s, v in total.items()} if n else {}


def choose_smoothing(
    graded: Sequence[GradedAnswer], strengths: Sequence[float] = STRENGTHS, folds: int = 5
) -> tuple[float, dict[str, float]]:
    """The strength with the best held-out log-likelihood (ties: the stronger prior), and
    every candidate's score (keyed by its repr, for the profile set's JSON)."""
    scores = held_out_log_likelihood(graded, strengths, folds)
    if not scores:
        return DEFAULT_SMOOTHING, {}
    best = max(strengths, key=lambda s: (round(scores[s], 9), s))
    return best, {f"{s:g}": round(v, 6) for s, v in scores.items()}
