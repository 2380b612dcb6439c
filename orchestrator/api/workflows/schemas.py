"""Wire models of /v1/workflows. A run is the WorkflowStore's record (orchestrator/workflows/
types.py) as a client reads it: the input without the server's file path or the owner, every
step with its times, every attempt with its scores, the result and a link per artifact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.workflows.types import RunStatus, Score, StepStatus

# The largest input any workflow file may allow (WorkflowSpec.input_max_chars); each workflow's
# own limit is checked by the service, so its 400 names the real one.
MAX_INPUT_CHARS = 100_000


class WorkflowStepInfo(BaseModel):
    name: str
    kind: str = Field(description="plan, tasks, judge or assemble")
    after: list[str] = Field(description="the steps it waits for")


class WorkflowInfo(BaseModel):
    name: str = Field(description="what POST /v1/workflows/{name}/runs takes")
    description: str
    input_max_chars: int
    steps: list[WorkflowStepInfo] = Field(description="in the order they run")
    error: str | None = Field(
        default=None, description="why the file cannot run (it is listed, with no steps)"
    )


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: str = Field(
        min_length=1,
        max_length=MAX_INPUT_CHARS,
        description="the workflow's input (a scene, a question); at most the workflow's "
        "input_max_chars",
    )


class RunLinks(BaseModel):
    self: str = Field(description="the run: GET it")
    events: str = Field(description="its progress as server-sent events")


class RunCreated(BaseModel):
    run_id: str
    status: RunStatus
    links: RunLinks


class ArtifactLink(BaseModel):
    path: str = Field(description="relative to the run's artifact folder")
    media_type: str
    url: str = Field(description="download it (same key)")


class StepOut(BaseModel):
    key: str = Field(description="a step's name, or step:sub-task for one sub-task's loop")
    kind: str
    status: StepStatus
    error: str | None = Field(
        default=None, description="why it failed (a planner's raw output included)"
    )
    started_at: datetime
    finished_at: datetime | None = None
    seconds: float | None = Field(default=None, description="finished_at - started_at")
    output: dict[str, Any] | None = Field(
        default=None, description="what it handed on (the plan, the kept attempts, the result)"
    )


class AttemptOut(BaseModel):
    task_id: str
    candidate: str = Field(description="the tool that made it")
    number: int = Field(description="1 for the candidate's first try")
    instruction: str
    artifact: ArtifactLink | None = None
    text: str | None = None
    error: str | None = None
    scores: list[Score]
    seconds: float


class RunDetail(BaseModel):
    id: str
    workflow: str
    status: RunStatus
    error: str | None = None
    input: str
    created_at: datetime
    finished_at: datetime | None = None
    steps: list[StepOut] = Field(description="in start order")
    attempts: list[AttemptOut] = Field(description="in the order they were made")
    result: dict[str, Any] | None = Field(
        default=None, description="the output of the last step, once the run has succeeded"
    )
    artifacts: list[ArtifactLink] = Field(
        description="the result's files, then every attempt's artifact"
    )
    links: RunLinks


class RunStatusEvent(BaseModel):
    """The data of the `run` event (a status change) and of the final event."""

    run_id: str
    status: RunStatus
    error: str | None = None
    result: dict[str, Any] | None = None
