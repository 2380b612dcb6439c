"""Wire models of /v1/jobs. A job takes the same options as /v1/answers; a job's state and
items are the JobStore's records (orchestrator.db.jobs)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from orchestrator.api.answers.schemas import AnswerOptions
from orchestrator.db.jobs import JobItem, JobStatus, JobSummary

FINISHED: tuple[JobStatus, ...] = ("done", "failed", "cancelled")

Question = Annotated[str, Field(min_length=1, max_length=100_000)]


class JobRequest(AnswerOptions):
    questions: list[Question] = Field(
        min_length=1, description="at most the server's api_max_job_questions"
    )


class JobDetail(JobSummary):
    offset: int = Field(description="index of the first item returned")
    items: list[JobItem]
