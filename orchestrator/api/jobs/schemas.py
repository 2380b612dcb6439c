"""Wire models of /v1/jobs. A job takes the same options as /v1/answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from orchestrator.api.answers.schemas import AnswerOptions

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
ItemStatus = Literal["queued", "done", "failed", "cancelled"]
FINISHED: tuple[JobStatus, ...] = ("done", "failed", "cancelled")

Question = Annotated[str, Field(min_length=1, max_length=100_000)]


class JobRequest(AnswerOptions):
    questions: list[Question] = Field(
        min_length=1, description="at most the server's api_max_job_questions"
    )


class JobProgress(BaseModel):
    """A job's state without its items; also the data of each server-sent event."""

    id: str
    status: JobStatus
    total: int
    completed: int = Field(description="items answered or failed so far")
    error: str | None = None


class JobSummary(JobProgress):
    created_at: datetime
    updated_at: datetime


class JobItem(BaseModel):
    index: int
    question: str
    status: ItemStatus
    answer: str | None = None
    extracted: str | None = None
    query_id: str | None = Field(default=None, description="the stored trace of this answer")
    error: str | None = None


class JobDetail(JobSummary):
    offset: int = Field(description="index of the first item returned")
    items: list[JobItem]
