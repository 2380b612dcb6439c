"""`llm`: an aggregator LLM synthesises the experts' responses (Symbolic-MoE, MoA)."""

from __future__ import annotations

from orchestrator.aggregators.base import AggregationInput, AggregationOutcome, AggregatorPolicy
from orchestrator.prompts import aggregator_prompt


class LLMAggregator(AggregatorPolicy):
    name = "llm"
    uses_model = True

    def aggregate(self, item: AggregationInput, completion: bool) -> AggregationOutcome:
        responses = [a.text for a in item.answers if a.text.strip()]
        if not responses:
            return AggregationOutcome(answer="", notes=["every expert answer was empty"])
        return AggregationOutcome(
            prompt=aggregator_prompt(
                item.question, item.fmt, responses, completion, item.conversation
            )
        )
