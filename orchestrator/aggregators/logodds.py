"""`logodds_vote`: each vote weighted by the log-odds of its expert being right on this
query's skills, log(p (L-1) / (1-p)) for L options: the optimal weighting of independent
voters whose wrong answers spread over the other L-1 options. p is the recruitment's
expected accuracy (the profile's smoothed per-skill accuracy); an expert no better than
chance (p <= 1/L) gets no vote. Without expected accuracies it is a plain vote."""

from __future__ import annotations

import math

from orchestrator.aggregators.base import AggregationInput, AggregationOutcome, ExpertAnswer
from orchestrator.aggregators.vote import VotingPolicy
from orchestrator.answers import option_count

_CLIP = 0.01  # no expert is certain: p is kept in [0.01, 0.99]


def log_odds(p: float, options: int) -> float:
    """max(0, log(p (L-1) / (1-p))); L = options (2 for a free-form answer)."""
    p = min(max(p, _CLIP), 1 - _CLIP)
    return max(0.0, math.log(p * (max(options, 2) - 1) / (1 - p)))


def options_of(item: AggregationInput) -> int:
    return option_count(item.question) if item.fmt == "letter" else 2


class LogOddsVoteAggregator(VotingPolicy):
    name = "logodds_vote"

    def weight(self, item: AggregationInput, answer: ExpertAnswer) -> float | None:
        return self.reach(item, answer.expert)

    def reach(self, item: AggregationInput, expert: str) -> float:
        if not item.expected_accuracy:
            return 1.0
        return log_odds(item.expected_accuracy.get(expert, 0.0), options_of(item))

    def aggregate(self, item: AggregationInput, completion: bool) -> AggregationOutcome:
        outcome = super().aggregate(item, completion)
        if not item.expected_accuracy:
            outcome.notes.insert(0, "no expected accuracies (profile set): a plain vote")
        return outcome
