"""Aggregation policy registry: names used by settings and the CLI."""

from __future__ import annotations

from orchestrator.aggregators.base import (
    AggregationInput,
    AggregationOutcome,
    AggregatorPolicy,
    ExpertAnswer,
)
from orchestrator.aggregators.llm import LLMAggregator
from orchestrator.aggregators.vote import VoteAggregator, WeightedVoteAggregator

AGGREGATORS: dict[str, type[AggregatorPolicy]] = {
    cls.name: cls for cls in (LLMAggregator, VoteAggregator, WeightedVoteAggregator)
}

__all__ = [
    "AGGREGATORS",
    "AggregationInput",
    "AggregationOutcome",
    "AggregatorPolicy",
    "ExpertAnswer",
]
