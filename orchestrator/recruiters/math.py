"""The reference Symbolic-MoE recruitment arithmetic, as pure functions (hand-checkable)."""

from __future__ import annotations

import random
from collections import Counter


def normalize_to_probability(values: list[float], temperature: float = 0.5) -> list[float]:
    """Shift so the minimum is 1 if any value is negative, raise to 1/temperature, normalise."""
    if not values:
        return []
    low = min(values)
    shifted = [v - low + 1 for v in values] if low < 0 else list(values)
    scaled = [v ** (1.0 / temperature) for v in shifted]
    total = sum(scaled)
    if total == 0:
        return [1.0 / len(values)] * len(values)
    return [v / total for v in scaled]


def candidate_weights(local: dict[str, float], strength: dict[str, float]) -> dict[str, float]:
    """w_m = L_m * g_m over experts with L_m > 0; if none is positive, shift L to min 1 first.
    Returned weights are normalised to sum to 1."""
    positive = {m: s for m, s in local.items() if s > 0}
    if positive:
        raw = {m: s * strength.get(m, 0.0) for m, s in positive.items()}
    else:
        low = min(local.values())
        raw = {m: (s - low + 1) * strength.get(m, 0.0) for m, s in local.items()}
    total = sum(raw.values())
    if total <= 0:  # every candidate has zero strength: fall back to equal weights
        return {m: 1.0 / len(raw) for m in raw}
    return {m: w / total for m, w in raw.items()}


def draw(weights: dict[str, float], k: int, rng: random.Random) -> list[str]:
    """k draws with replacement in proportion to the weights (a model may answer twice)."""
    names = list(weights)
    return rng.choices(names, weights=[weights[n] for n in names], k=k)


def top_p(weights: dict[str, float], p: float, max_k: int) -> list[str]:
    """Dynamic k: the heaviest experts until their cumulative weight reaches p (at most max_k)."""
    chosen: list[str] = []
    mass = 0.0
    for name, weight in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0])):
        chosen.append(name)
        mass += weight
        if mass >= p or len(chosen) >= max_k:
            break
    return chosen


def fold_rare(
    drawn: list[list[str]], threshold: float, rng: random.Random
) -> tuple[list[list[str]], dict[str, str]]:
    """min_share: experts drawn less than `threshold` of all draws in the batch are replaced by
    a frequent expert sampled in proportion to its count (the reference replacement rule), so
    the batch loads fewer distinct models. Returns the new draws and what replaced what."""
    counts = Counter(name for row in drawn for name in row)
    total = sum(counts.values())
    frequent = {m: c for m, c in counts.items() if c / total >= threshold}
    if not frequent or len(frequent) == len(counts):
        return drawn, {}
    names = sorted(frequent)
    weights = [frequent[n] for n in names]
    replaced: dict[str, str] = {}
    out: list[list[str]] = []
    for row in drawn:
        new_row = []
        for name in row:
            if name not in frequent:
                name_new = rng.choices(names, weights=weights, k=1)[0]
                replaced[name] = name_new
                name = name_new
            new_row.append(name)
        out.append(new_row)
    return out, replaced
