"""Error correlation between experts and diversity-aware committee selection.

Two experts that fail on the same questions add little to each other's votes. The profile
set keeps, per pair, the correlation (phi coefficient) of their errors on the validation
questions both answered; the `diverse` recruiter picks greedily by expected accuracy less
lambda times the highest correlation with an expert already chosen."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from skills.profiles import GradedAnswer


def error_correlation(graded: Iterable[GradedAnswer]) -> dict[str, dict[str, float]]:
    """Per pair of experts, the phi coefficient of their errors over the questions both
    answered (0 where either never or always erred there: no variation to correlate)."""
    wrong: dict[str, dict[str, bool]] = {}
    for g in graded:
        wrong.setdefault(g.expert, {})[g.question_id] = not g.correct
    experts = sorted(wrong)
    out: dict[str, dict[str, float]] = {e: {} for e in experts}
    for i, a in enumerate(experts):
        for b in experts[i + 1 :]:
            common = wrong[a].keys() & wrong[b].keys()
            phi = _phi([wrong[a][q] for q in common], [wrong[b][q] for q in common])
            out[a][b] = out[b][a] = round(phi, 6)
    return out


def _phi(x: Sequence[bool], y: Sequence[bool]) -> float:
    n = len(x)
    if n == 0:
        return 0.0
    mx, my = sum(x) / n, sum(y) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / n
    var = mx * (1 - mx) * my * (1 - my)
    return cov / math.sqrt(var) if var > 0 else 0.0


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
