"""What a workflow's steps hand each other: the planner's sub-tasks, the artifacts tools make,
the supervisors' scores, and one attempt (a candidate's output with its scores). Plain
pydantic models, so every one of them is stored as it is and read back on resume."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RunStatus = Literal["pending", "running", "succeeded", "failed"]
StepStatus = Literal["running", "done", "failed"]


class RoleSpec(BaseModel):
    """An LLM role: which expert plays it and its prompt template. Templates are filled with
    {input}, {tasks}, {instruction} and {reasons} where the step has them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    expert: str = Field(min_length=1)
    prompt: str = Field(min_length=1)
    max_tokens: int = Field(default=256, ge=1, le=8192)
    asks: int = Field(default=3, ge=1, le=10, description="re-asks after invalid output")


class SubTask(BaseModel):
    """One item of the planner's output, valid against the workflow's sub-task schema:
    `type` routes it to candidates (a soundscape event's speech / sfx / music), `fields` is
    the rest of the item (start, end, description, volume...)."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    fields: dict[str, Any] = Field(default_factory=dict)

    def description(self) -> str:
        return str(self.fields.get("description", ""))


class Artifact(BaseModel):
    """A file a tool made, under the run's folder in the data dir, named by its hash."""

    path: str = Field(description="relative to the run's artifact folder")
    sha256: str
    media_type: str
    meta: dict[str, Any] = Field(default_factory=dict)


class Score(BaseModel):
    """One supervisor's score on one dimension, in [0, 1], with its reason (what a refinement
    rewrites the instruction with)."""

    supervisor: str
    dimension: str
    value: float = Field(ge=0.0, le=1.0)
    reason: str = ""


class Attempt(BaseModel):
    """One candidate's try at a sub-task: the instruction it got, what it made (an artifact,
    text, or an error), and the supervisors' scores."""

    task_id: str
    candidate: str
    number: int = Field(ge=1, description="1 for the first try of this candidate")
    # what a candidate's profile for a type is measured over (None: stored before it was kept)
    task_type: str | None = None
    instruction: str
    artifact: Artifact | None = None
    text: str | None = None
    error: str | None = None
    scores: list[Score] = Field(default_factory=list)
    seconds: float = 0.0  # the tool making it
    review_seconds: float = 0.0  # its supervisors scoring it
    rewrite_seconds: float = 0.0  # rewriting the instruction it got from the last one's reasons

    def passed(self, thresholds: dict[str, float]) -> bool:
        """Every threshold met by every score of its dimension (and no error)."""
        if self.error is not None:
            return False
        return all(
            s.value >= thresholds[s.dimension] for s in self.scores if s.dimension in thresholds
        )

    def mean_score(self) -> float:
        """What "keep the best" compares: the mean of its scores (0 after an error)."""
        if self.error is not None or not self.scores:
            return 0.0
        return sum(s.value for s in self.scores) / len(self.scores)


class StepRecord(BaseModel):
    """A step of a stored run (a sub-task's refinement loop is a step of its own)."""

    key: str
    kind: str
    status: StepStatus
    output: dict[str, Any] | None = None
    error: str | None = None
    started_at: datetime
    finished_at: datetime | None = None


class WorkflowRunRecord(BaseModel):
    """A stored run, as orchestrator/db/workflows.py reads it back."""

    id: str
    workflow: str
    spec_sha256: str
    input: dict[str, Any]
    status: RunStatus
    error: str | None = None
    created_at: datetime
    finished_at: datetime | None = None
    steps: list[StepRecord] = Field(default_factory=list, description="in start order")
    attempts: list[Attempt] = Field(default_factory=list, description="in insertion order")
