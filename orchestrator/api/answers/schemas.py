"""Wire models of /v1/answers (shared by batch jobs, which take the same options)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from orchestrator.aggregators import AGGREGATORS
from orchestrator.errors import SymoeError
from orchestrator.retrieval import GATES
from orchestrator.trace import Trace
from workers.registry import Registry


def only_names_of(registry: Registry[Any]) -> AfterValidator:
    """Takes only the names `registry` lists: an unknown one is a 422 with its message."""

    def check(name: str) -> str:
        try:
            return registry.check(name)
        except SymoeError as exc:
            raise PydanticCustomError("unknown_name", "{message}", {"message": str(exc)}) from None

    return AfterValidator(check)


def enum_of(registry: Registry[Any]) -> WithJsonSchema:
    """The OpenAPI schema shows the registered names as the field's enum."""
    return WithJsonSchema({"type": "string", "enum": registry.names()})


AggregationName = Annotated[str, only_names_of(AGGREGATORS), enum_of(AGGREGATORS)]
GateName = Annotated[str, only_names_of(GATES), enum_of(GATES)]


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
    retrieval: GateName | None = Field(
        default=None, description="the retrieval gate (default: the server's)"
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
