"""Voting policies: no model call; each extracted answer adds its weight to the candidate it
names. `vote` counts 1 per answer, `weighted_vote` the recruitment weight; logodds.py and
learned.py weigh by validation accuracy. Every voting policy can tell a cascade when the
answers still to come can no longer change the result (`settled`)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable

from orchestrator.aggregators.base import (
    AggregationInput,
    AggregationOutcome,
    AggregatorPolicy,
    ExpertAnswer,
)

# an answer's weight; None leaves the answer out (it does not even make its candidate)
WeightOf = Callable[[ExpertAnswer], float | None]


def vote_scores(
    item: AggregationInput, weight_of: WeightOf
) -> tuple[dict[str, float], dict[str, str]]:
    """Each candidate's summed weight, in first-seen order, and the first text naming it."""
    scores: dict[str, float] = {}
    first_text: dict[str, str] = {}
    for ans in item.answers:
        if ans.extracted is None:
            continue
        weight = weight_of(ans)
        if weight is None:
            continue
        scores[ans.extracted] = scores.get(ans.extracted, 0.0) + weight
        first_text.setdefault(ans.extracted, ans.text)
    return scores, first_text


def tally(item: AggregationInput, weight_of: WeightOf) -> AggregationOutcome:
    """The extracted answer with the highest summed weight of its votes."""
    scores, first_text = vote_scores(item, weight_of)
    if not scores:
        fallback = next((a.text for a in item.answers if a.text.strip()), "")
        return AggregationOutcome(answer=fallback, notes=["no parseable expert answer to vote on"])
    # Highest score wins; ties go to the answer seen first (dicts keep insertion order).
    best = max(scores, key=lambda k: scores[k])
    tally = ", ".join(f"{k}={v:.3g}" for k, v in scores.items())
    return AggregationOutcome(answer=first_text[best], extracted=best, notes=[f"votes: {tally}"])


def margin_exceeds(scores: dict[str, float], still_to_come: float) -> bool:
    """Whether the leader's lead over the best rival (or over a new candidate, which starts
    at 0) is more than the answers still to come could move: they cannot change the winner."""
    if not scores:
        return False
    ordered = sorted(scores.values(), reverse=True)
    rival = max(ordered[1], 0.0) if len(ordered) > 1 else 0.0
    return ordered[0] - rival > still_to_come


class VotingPolicy(AggregatorPolicy):
    """A policy that sums per-answer weights."""

    @abstractmethod
    def weight(self, item: AggregationInput, answer: ExpertAnswer) -> float | None:
        """This answer's weight for its candidate (None: left out)."""

    @abstractmethod
    def reach(self, item: AggregationInput, expert: str) -> float:
        """The most one answer of `expert` could move any candidate's score, either way."""

    def aggregate(self, item: AggregationInput, completion: bool) -> AggregationOutcome:
        return tally(item, lambda a: self.weight(item, a))

    def settled(self, item: AggregationInput, remaining: list[str]) -> bool:
        scores, _ = vote_scores(item, lambda a: self.weight(item, a))
        return margin_exceeds(scores, sum(self.reach(item, e) for e in remaining))


class VoteAggregator(VotingPolicy):
    name = "vote"

    def weight(self, item: AggregationInput, answer: ExpertAnswer) -> float | None:
        return 1.0

    def reach(self, item: AggregationInput, expert: str) -> float:
        return 1.0


class WeightedVoteAggregator(VotingPolicy):
    """Each expert's vote counts its recruitment weight for this query (its profile fit)."""

    name = "weighted_vote"

    def weight(self, item: AggregationInput, answer: ExpertAnswer) -> float | None:
        return item.weights.get(answer.expert, 0.0)

    def reach(self, item: AggregationInput, expert: str) -> float:
        return abs(item.weights.get(expert, 0.0))
