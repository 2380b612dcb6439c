"""What the planning phase decides for each query, before any expert runs: a typed `Plan`
(skills with scores, the retrieval decision with its reasons, the recruitment with its
weights and draws, the aggregation). Execution takes plans and runs the stages."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from orchestrator.answers import AnswerFormat
from orchestrator.conversation import Conversation
from orchestrator.overrides import CallOverrides
from orchestrator.trace import Recruitment, RetrievalDecision, SkillTagging
from skills.profiles import StackerWeights
from workers.types import GenerationParams, Prompt


class Query(BaseModel):
    text: str
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    question_id: str | None = None
    fmt: AnswerFormat | None = None
    conversation: Conversation | None = Field(
        default=None, description="a chat's system prompt and earlier turns: every call gets it"
    )


class BatchOptions(BaseModel):
    """How to answer a batch. `k` and `aggregation` have no default here: entry points fill
    them from Settings and the request in one place (orchestrator/options.py)."""

    k: int = Field(ge=1, le=64)
    aggregation: str
    experts: list[str] | None = Field(default=None, description="candidate pool; default all")
    aggregator: str | None = Field(default=None, description="aggregator expert name")
    retrieval: str | None = Field(default=None, description="retrieval gate; default settings")
    expert_max_tokens: int | None = None
    aggregator_max_tokens: int | None = None
    temperature: float | None = Field(default=None, description="override for expert calls")
    seed: int | None = Field(default=None, description="override of the generation seed")
    replace_failed: bool = Field(
        default=True, description="re-ask a failed expert's slot of another candidate"
    )
    cascade: bool = Field(
        default=False,
        description="ask the recruited experts in order and stop once the answer is settled",
    )
    overrides: CallOverrides = Field(default_factory=CallOverrides)


class DirectPrompt(BaseModel):
    """A one-expert plan's own prompt and parameters (a chat completion naming an expert):
    the messages go to the model as they are."""

    prompt: Prompt
    params: GenerationParams


class Plan(BaseModel):
    """One query's plan. `pool` is the candidates its failed slots may be replaced from."""

    query: Query
    fmt: AnswerFormat
    tagging: SkillTagging
    retrieval: RetrievalDecision
    recruitment: Recruitment
    pool: list[str]
    direct: DirectPrompt | None = None
    # the profile set's fitted aggregation weights (`learned`); not part of a dumped plan
    stacker: StackerWeights | None = Field(default=None, exclude=True, repr=False)

    @property
    def aggregation(self) -> str:
        return self.recruitment.aggregation

    @property
    def aggregator(self) -> str | None:
        return self.recruitment.aggregator
