"""Batch options from Settings and a request, in one place: every entry point (CLI ask, the
API's answers, jobs and chat completions) fills its options here, and a request that asks
for more than the server's budgets allows is refused here (InputError naming the field)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.errors import InputError
from orchestrator.plan import BatchOptions
from orchestrator.retrieval import AUTO
from orchestrator.settings import Settings


class RequestedOptions(BaseModel):
    """What a caller asked for; unset fields take the server's settings."""

    model_config = ConfigDict(extra="forbid")

    k: int | None = Field(default=None, ge=1, description="experts to recruit")
    experts: list[str] | None = Field(
        default=None, min_length=1, description="candidate experts (default: all enabled)"
    )
    aggregator: str | None = Field(default=None, description="aggregator expert")
    aggregation: str | None = Field(default=None, description="aggregation policy")
    retrieval: str | None = Field(
        default=None, description="a retrieval gate, or auto (the server's, the default)"
    )
    max_tokens: int | None = Field(default=None, ge=1, description="per expert call")
    max_experts: int | None = Field(default=None, ge=1, description="cap on k")
    cascade: bool | None = Field(default=None, description="stop once the answer is settled")


class Budgets(BaseModel):
    """A server's per-request limits, and the setting each comes from (for the message)."""

    max_experts: int
    max_tokens: int
    experts_source: str = "SYMOE_API_MAX_EXPERTS"
    tokens_source: str = "SYMOE_API_MAX_TOKENS"

    @classmethod
    def of(cls, settings: Settings) -> Budgets:
        return cls(max_experts=settings.api_max_experts, max_tokens=settings.api_max_tokens)


def batch_options(
    settings: Settings, requested: RequestedOptions, budgets: Budgets | None = None
) -> BatchOptions:
    """BatchOptions for a request. With `budgets` (the API), a value over a limit is refused."""
    k = requested.k or settings.k
    max_tokens = requested.max_tokens or settings.expert_max_tokens
    aggregator_max_tokens = settings.aggregator_max_tokens
    if budgets is not None:
        within_budget(
            "max_experts", requested.max_experts, budgets.max_experts, budgets.experts_source
        )
        if requested.max_experts is not None:
            within_budget("k", k, requested.max_experts, "the request's max_experts")
        within_budget("k", k, budgets.max_experts, budgets.experts_source)
        within_budget("max_tokens", max_tokens, budgets.max_tokens, budgets.tokens_source)
        aggregator_max_tokens = min(aggregator_max_tokens, budgets.max_tokens)
    return BatchOptions(
        k=k,
        experts=requested.experts,
        aggregator=requested.aggregator,
        aggregation=requested.aggregation or settings.aggregation,
        retrieval=(
            settings.retrieval_gate if requested.retrieval in (None, AUTO) else requested.retrieval
        ),
        expert_max_tokens=max_tokens,
        aggregator_max_tokens=aggregator_max_tokens,
        cascade=settings.cascade if requested.cascade is None else requested.cascade,
    )


def within_budget(field: str, value: int | None, limit: int, source: str) -> None:
    """InputError naming the field, the real limit and where it comes from when a value
    passes it: every per-request budget of every route (answers, jobs, chat) is checked here."""
    if value is not None and value > limit:
        unit = "tokens" if "tokens" in field else "experts"
        raise InputError(
            f"{field}={value} exceeds the budget of {limit} {unit} per request ({source})",
            field,
        )
