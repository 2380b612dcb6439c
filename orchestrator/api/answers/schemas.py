"""Wire models of /v1/answers (shared by batch jobs, which take the same options)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from orchestrator.aggregators import AGGREGATORS
from orchestrator.errors import SymoeError
from orchestrator.retrieval import check_retrieval, retrieval_choices
from orchestrator.trace import Passage, Trace


def only_names(check: Callable[[str], str]) -> AfterValidator:
    """Takes only what `check` (a registry's) passes: any other is a 422 with its message."""

    def validate(name: str) -> str:
        try:
            return check(name)
        except SymoeError as exc:
            raise PydanticCustomError("unknown_name", "{message}", {"message": str(exc)}) from None

    return AfterValidator(validate)


def enum_of(names: list[str]) -> WithJsonSchema:
    """The OpenAPI schema shows the registered names as the field's enum."""
    return WithJsonSchema({"type": "string", "enum": names})


AggregationName = Annotated[str, only_names(AGGREGATORS.check), enum_of(AGGREGATORS.names())]
# `auto` (the server's gate) or a gate's name
RetrievalName = Annotated[str, only_names(check_retrieval), enum_of(retrieval_choices())]


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
    retrieval: RetrievalName | None = Field(
        default=None, description="a retrieval gate, or auto: the server's (the default)"
    )
    max_tokens: int | None = Field(
        default=None, ge=1, description="per expert call (at most the server's budget)"
    )
    max_experts: int | None = Field(
        default=None, ge=1, description="cap on k (at most the server's budget)"
    )
    cascade: bool | None = Field(
        default=None,
        description="ask the recruited experts in order and stop once the rest cannot change "
        "the answer (default: the server's SYMOE_CASCADE)",
    )


class AnswerRequest(AnswerOptions):
    question: str = Field(min_length=1, max_length=100_000)


class AnswerResponse(BaseModel):
    answer: str
    extracted_answer: str | None
    error: str | None
    citations: list[Passage] = Field(
        default_factory=list, description="the retrieved sources the answer cites as [n]"
    )
    trace: Trace
