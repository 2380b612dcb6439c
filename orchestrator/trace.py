"""What one answered query leaves behind: the plan with its reasons, every model call, and
the final answer. The same object is persisted, printed by the CLI and (later) returned by
the API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from workers.types import TokenLogprob


class SkillTagging(BaseModel):
    method: str
    keywords: list[str] = Field(default_factory=list, description="raw tagger output")
    skills: list[str] = Field(default_factory=list, description="mapped vocabulary skills")
    similarities: dict[str, float] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)


class Passage(BaseModel):
    """A retrieved chunk as the experts saw it: cited as [number]."""

    number: int = Field(ge=1)
    chunk_id: int
    source: str
    text: str
    score: float


class RetrievalDecision(BaseModel):
    """The retrieval gate's choice for one query, with what it was based on and, when it
    retrieved, the passages the expert prompts carry and what the search cost."""

    gate: str = "never"
    retrieve: bool = False
    reasons: list[str] = Field(default_factory=list)
    scores: dict[str, float] = Field(default_factory=dict)
    passages: list[Passage] = Field(default_factory=list)
    search_seconds: float = 0.0
    passage_tokens: int = Field(
        default=0, description="tokens the passages add to each expert prompt (their chunks')"
    )


class Recruitment(BaseModel):
    recruiter: str
    profile_set: str | None
    global_competence: dict[str, float] = Field(default_factory=dict)
    local_suitability: dict[str, float] = Field(default_factory=dict)
    weights: dict[str, float] = Field(default_factory=dict, description="normalised draw weights")
    expected_accuracy: dict[str, float] = Field(
        default_factory=dict,
        description="per expert, its smoothed validation accuracy on the query's skills",
    )
    drawn: list[str] = Field(
        default_factory=list, description="experts in draw order, repeats kept"
    )
    aggregator: str | None = None
    aggregation: str = "llm"
    notes: list[str] = Field(default_factory=list)


class ModelCall(BaseModel):
    """One prompt's completion inside a stage."""

    stage: str
    expert: str
    slot: int = 0
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    extracted: str | None = None
    # Per-token logprobs, for the API's direct calls; never stored, never in a dump.
    logprobs: list[TokenLogprob] | None = Field(default=None, exclude=True)


TraceEventKind = Literal["expert_failed", "replaced", "not_replaced", "aggregator_failed"]


class TraceEvent(BaseModel):
    """Something that happened to a query's committee, in a form statistics can count:
    `expert_failed` (stage, expert, slot, error), `replaced` (the failed `expert` of `slot`
    by `replacement`), `not_replaced` (no candidate was left), `aggregator_failed` (the
    aggregator `expert` failed; `replacement` names the policy that answered instead)."""

    kind: TraceEventKind
    stage: str
    expert: str
    slot: int = 0
    replacement: str | None = None
    error: str | None = None


class StageTiming(BaseModel):
    stage: str
    seconds: float
    groups: int
    loads: int
    load_seconds: float = 0.0


class ModelLoad(BaseModel):
    stage: str
    expert: str
    seconds: float


class Trace(BaseModel):
    query_id: str
    batch_id: str = ""
    question: str
    tagging: SkillTagging
    recruitment: Recruitment
    retrieval: RetrievalDecision = Field(default_factory=RetrievalDecision)
    events: list[TraceEvent] = Field(default_factory=list)
    calls: list[ModelCall] = Field(default_factory=list)
    answer: str = ""
    extracted_answer: str | None = None
    stages: list[StageTiming] = Field(default_factory=list, description="batch-level, shared")
    seconds: float = 0.0
    error: str | None = None

    @property
    def prompt_tokens(self) -> int:
        return sum(c.prompt_tokens for c in self.calls)

    @property
    def completion_tokens(self) -> int:
        return sum(c.completion_tokens for c in self.calls)


class BatchReport(BaseModel):
    """A batch of queries answered together: their traces plus what the batch cost."""

    batch_id: str
    traces: list[Trace]
    stages: list[StageTiming] = Field(default_factory=list)
    loads: list[ModelLoad] = Field(default_factory=list)
    seconds: float = 0.0
