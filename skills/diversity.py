"""Error correlation between experts and diversity-aware committee selection.

Two experts that fail on the same questions add little to each other's votes. The profile
set keeps, per pair, the correlation (phi coefficient) of their errors on the validation
questions both answered; the `diverse` recruiter picks greedily by expected accuracy less
lambda times the highest correlation with an expert already chosen."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from skills.profiles import GradedAnswer


def error_correlation(graded: Iterable[GradedAnswer]) -> dict[str, dict[str, float]]:
    """Per pair of experts, the phi coefficient of their errors over the questions both
    answered (0 where either never or always erred there: no variation to correlate).
    Computed as matrix products over an (expert x question) table, so 22 experts on ten
    thousand questions take milliseconds."""
    wrong: dict[str, dict[str, bool]] = {}
    for g in graded:
        wrong.setdefault(g.expert, {})[g.question_id] = not g.correct
    experts = sorted(wrong)
    questions = sorted({q for answers in wrong.values() for q in answers})
    column = {q: j for j, q in enumerate(questions)}
    answered = np.zeros((len(experts), len(questions)))
    erred = np.zeros_like(answered)
    for i, e in enumerate(experts):
        for q, w in wrong[e].items():
            answered[i, column[q]] = 1.0
            erred[i, column[q]] = float(w)
    n = answered @ answered.T  # questions both answered
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_a = (erred @ answered.T) / n  # a's error rate on the questions b answered too
        mean_b = mean_a.T
        cov = (erred @ erred.T) / n - mean_a * mean_b
        var = mean_a * (1 - mean_a) * mean_b * (1 - mean_b)
        phi = np.where((n > 0) & (var > 1e-12), cov / np.sqrt(var), 0.0)
    return {
        a: {b: round(float(phi[i, j]), 6) for j, b in enumerate(experts) if j != i}
        for i, a in enumerate(experts)
    }


def diverse_committee(
    expected: dict[str, float],
    correlation: dict[str, dict[str, float]],
    candidates: Sequence[str],
    k: int,
    strength: float,
) -> list[str]:
    """Greedy: the most accurate first, then each next maximises expected accuracy less
    `strength` times its highest error correlation with those chosen (candidates' order
    breaks ties). Strength 0 is plain top-k."""
    chosen: list[str] = []
    left = list(candidates)
    while left and len(chosen) < k:

        def score(m: str) -> float:
            overlap = max((correlation.get(m, {}).get(c, 0.0) for c in chosen), default=0.0)
            return expected.get(m, 0.0) - strength * overlap

        best = max(left, key=score)  # max keeps the first of equals: candidates' order
        chosen.append(best)
        left.remove(best)
    return chosen
