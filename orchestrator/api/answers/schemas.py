"""Wire models of /v1/answers (shared by batch jobs, which take the same options)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.trace import Trace


class AnswerOptions(BaseModel):
    """Per-request choices; unset fields take the server's settings."""

    model_config = ConfigDict(extra="forbid")

    k: int | None = Field(default=None, ge=1, le=64, description="experts to recruit")
    experts: list[str] | None = Field(
        default=None, min_length=1, description="candidate experts (default: all enabled)"
    )
    aggregator: str | None = Field(default=None, description="aggregator expert")
    aggregation: Literal["llm", "vote", "weighted_vote"] | None = None
    retrieval: Literal["auto", "never"] | None = Field(
        default=None, description="retrieval gate policy (no retriever is configured yet)"
    )
    max_tokens: int | None = Field(default=None, ge=1, description="per expert call")
    max_experts: int | None = Field(default=None, ge=1, le=64, description="budget: cap on k")


class AnswerRequest(AnswerOptions):
    question: str = Field(min_length=1, max_length=100_000)


class AnswerResponse(BaseModel):
    answer: str
    extracted_answer: str | None
    error: str | None
    trace: Trace
