"""`vote` and `weighted_vote`: no model call; the extracted answers are counted."""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.aggregators.base import (
    AggregationInput,
    AggregationOutcome,
    AggregatorPolicy,
    ExpertAnswer,
)


def tally(item: AggregationInput, weight_of: Callable[[ExpertAnswer], float]) -> AggregationOutcome:
    """The extracted answer with the highest summed weight of its votes."""
    scores: dict[str, float] = {}
    first_text: dict[str, str] = {}
    for ans in item.answers:
        if ans.extracted is None:
            continue
        weight = weight_of(ans)
        scores[ans.extracted] = scores.get(ans.extracted, 0.0) + weight
        first_text.setdefault(ans.extracted, ans.text)
    if not scores:
        fallback = next((a.text for a in item.answers if a.text.strip()), "")
        return AggregationOutcome(answer=fallback, notes=["no parseable expert answer to vote on"])
    # Highest score wins; ties go to the answer seen first (dicts keep insertion order).
    best = max(scores, key=lambda k: scores[k])
    tally = ", ".join(f"{k}={v:.3g}" for k, v in scores.items())
    return AggregationOutcome(answer=first_text[best], extracted=best, notes=[f"votes: {tally}"])


class VoteAggregator(AggregatorPolicy):
    name = "vote"

    def aggregate(self, item: AggregationInput, completion: bool) -> AggregationOutcome:
        return tally(item, lambda a: 1.0)


class WeightedVoteAggregator(AggregatorPolicy):
    """Each expert's vote counts its recruitment weight for this query (its profile fit)."""

    name = "weighted_vote"

    def aggregate(self, item: AggregationInput, completion: bool) -> AggregationOutcome:
        return tally(item, lambda a: item.weights.get(a.expert, 0.0))
