"""Wire models of /v1/answers (shared by batch jobs, which take the same options)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from orchestrator.aggregators import AGGREGATORS
from orchestrator.errors import InputError
from orchestrator.trace import Trace


def _registered_aggregation(name: str) -> str:
    try:
        return AGGREGATORS.check(name)
    except InputError as exc:  # a 422 on the field, with the registry's message
        raise PydanticCustomError("unknown_name", "{message}", {"message": str(exc)}) from None


# the names AGGREGATORS lists; the OpenAPI schema shows them as the field's enum
AggregationName = Annotated[
    str,
    AfterValidator(_registered_aggregation),
    WithJsonSchema({"type": "string", "enum": AGGREGATORS.names()}),
]


class AnswerOptions(BaseModel):
    """Per-request choices; unset fields take the server's settings."""

    model_config = ConfigDict(extra="forbid")

    # k, max_experts and max_tokens have no upper bound here: batch_options checks them
    # against the server's budgets, the one place that knows the real limit
    k: int | None = Field(
        default=None, ge=1, description="experts to recruit (at most the server's budget)"
    )
    experts: list[str] | None = Field(
        default=None, min_length=1, description="candidate experts (default: all enabled)"
    )
    aggregator: str | None = Field(default=None, description="aggregator expert")
    aggregation: AggregationName | None = Field(
        default=None, description="how the experts' answers are merged (default: the server's)"
    )
    retrieval: Literal["auto", "never"] | None = Field(
        default=None, description="retrieval gate policy (no retriever is configured yet)"
    )
    max_tokens: int | None = Field(
        default=None, ge=1, description="per expert call (at most the server's budget)"
    )
    max_experts: int | None = Field(
        default=None, ge=1, description="cap on k (at most the server's budget)"
    )


class AnswerRequest(AnswerOptions):
    question: str = Field(min_length=1, max_length=100_000)


class AnswerResponse(BaseModel):
    answer: str
    extracted_answer: str | None
    error: str | None
    trace: Trace
