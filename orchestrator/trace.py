"""What one answered query leaves behind: the plan with its reasons, every model call, and
the final answer. The same object is persisted, printed by the CLI and (later) returned by
the API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SkillTagging(BaseModel):
    method: str
    keywords: list[str] = Field(default_factory=list, description="raw tagger output")
    skills: list[str] = Field(default_factory=list, description="mapped vocabulary skills")
    similarities: dict[str, float] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)


class Recruitment(BaseModel):
    recruiter: str
    profile_set: str | None
    global_competence: dict[str, float] = Field(default_factory=dict)
    local_suitability: dict[str, float] = Field(default_factory=dict)
    weights: dict[str, float] = Field(default_factory=dict, description="normalised draw weights")
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
