"""The aggregation interface: merge the experts' answers to one query."""

from __future__ import annotations

from abc import ABC, abstractmethod

from pydantic import BaseModel, Field

from orchestrator.answers import AnswerFormat
from orchestrator.conversation import Conversation
from skills.profiles import StackerWeights
from workers.types import Prompt


class ExpertAnswer(BaseModel):
    expert: str
    text: str
    extracted: str | None = None


class AggregationInput(BaseModel):
    question: str
    fmt: AnswerFormat
    answers: list[ExpertAnswer]
    weights: dict[str, float] = Field(default_factory=dict, description="recruitment weights")
    conversation: Conversation | None = Field(
        default=None, description="a chat's system prompt and earlier turns"
    )
    expected_accuracy: dict[str, float] = Field(
        default_factory=dict, description="per expert, from the recruitment (logodds_vote)"
    )
    skills: list[str] = Field(default_factory=list, description="the query's skills")
    stacker: StackerWeights | None = Field(
        default=None, description="the profile set's fitted weights (learned)"
    )


class AggregationOutcome(BaseModel):
    """Either a final answer now, or a prompt for the aggregator model (stage 3)."""

    answer: str | None = None
    extracted: str | None = None
    prompt: Prompt | None = None
    notes: list[str] = Field(default_factory=list)


class AggregatorPolicy(ABC):
    name: str = ""
    uses_model: bool = False

    @abstractmethod
    def aggregate(self, item: AggregationInput, completion: bool) -> AggregationOutcome:
        """`completion` says whether the aggregator model is a base (completion) model."""

    def settled(self, item: AggregationInput, remaining: list[str]) -> bool:
        """Whether no answers of the `remaining` experts could change this policy's answer
        to `item` (a cascade then stops asking). A policy that cannot tell: never."""
        return False
