"""Aggregation policy registry: names used by settings and the CLI."""

from __future__ import annotations

from orchestrator.aggregators.auto import AUTO, AutoAggregation, resolve_aggregation
from orchestrator.aggregators.base import (
    AggregationInput,
    AggregationOutcome,
    AggregatorPolicy,
    ExpertAnswer,
)
from orchestrator.aggregators.learned import LearnedAggregator
from orchestrator.aggregators.llm import LLMAggregator
from orchestrator.aggregators.logodds import LogOddsVoteAggregator
from orchestrator.aggregators.vote import VoteAggregator, WeightedVoteAggregator
from orchestrator.errors import InputError
from workers.registry import Registry

# name (SYMOE_AGGREGATION, --aggregation, a request's `aggregation`) -> class taking nothing.
# An unknown name is an InputError: a request or the CLI names it.
AGGREGATORS: Registry[AggregatorPolicy] = Registry(
    "aggregation",
    {
        cls.name: cls
        for cls in (
            LLMAggregator,
            VoteAggregator,
            WeightedVoteAggregator,
            LogOddsVoteAggregator,
            LearnedAggregator,
            AutoAggregation,
        )
    },
    error=InputError,
)


def all_aggregators() -> dict[str, AggregatorPolicy]:
    """One policy of each registered name (a planner holds them all: a request chooses)."""
    return {name: AGGREGATORS.create(name) for name in AGGREGATORS}


__all__ = [
    "AGGREGATORS",
    "AUTO",
    "AggregationInput",
    "AggregationOutcome",
    "AggregatorPolicy",
    "ExpertAnswer",
    "all_aggregators",
    "resolve_aggregation",
]
