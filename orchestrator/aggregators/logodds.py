"""`logodds_vote`: each vote weighted by the log-odds of its expert being right on this
query's skills, log(p (L-1) / (1-p)) for L options: the optimal weighting of independent
voters whose wrong answers spread over the other L-1 options. p is the recruitment's
expected accuracy (the profile's smoothed per-skill accuracy); an expert no better than
chance (p <= 1/L) gets no vote."""

from __future__ import annotations

import math

from orchestrator.aggregators.base import AggregationInput, AggregationOutcome, AggregatorPolicy
from orchestrator.aggregators.vote import tally
from orchestrator.answers import option_count

_CLIP = 0.01  # no expert is certain: p is kept in [0.01, 0.99]


def log_odds(p: float, options: int) -> float:
    """max(0, log(p (L-1) / (1-p))); L = options (2 for a free-form answer)."""
    p = min(max(p, _CLIP), 1 - _CLIP)
    return max(0.0, math.log(p * (max(options, 2) - 1) / (1 - p)))


def options_of(item: AggregationInput) -> int:
    return option_count(item.question) if item.fmt == "letter" else 2


class LogOddsVoteAggregator(AggregatorPolicy):
    name = "logodds_vote"

    def aggregate(self, item: AggregationInput, completion: bool) -> AggregationOutcome:
        if not item.expected_accuracy:
            outcome = tally(item, lambda a: 1.0)
            outcome.notes.insert(0, "no expected accuracies (profile set): a plain vote")
            return outcome
        options = options_of(item)
        return tally(item, lambda a: log_odds(item.expected_accuracy.get(a.expert, 0.0), options))
