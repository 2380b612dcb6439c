"""`auto` (the default aggregation): `learned` where the profile set carries its fitted
weights (the method chosen on validation data), else `llm`, the reference. The planner
resolves it per batch (`resolve_aggregation`), so a trace names the policy that ran; this
class only gives the name a place in the registry that the CLI, the API and settings read."""

from __future__ import annotations

from orchestrator.aggregators.base import AggregationInput, AggregationOutcome, AggregatorPolicy
from skills.profiles import ProfileSet

AUTO = "auto"
CHOSEN = "learned"
REFERENCE = "llm"


def resolve_aggregation(name: str, profile: ProfileSet | None) -> str:
    """The policy that answers for `name`: itself, or what `auto` stands for."""
    if name != AUTO:
        return name
    return CHOSEN if profile is not None and profile.stacker is not None else REFERENCE


class AutoAggregation(AggregatorPolicy):
    name = AUTO

    def aggregate(self, item: AggregationInput, completion: bool) -> AggregationOutcome:
        raise RuntimeError("aggregation 'auto' is resolved by the planner before it runs")
