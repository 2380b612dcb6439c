"""JobList: the batch jobs as the dashboard lists them, newest first, a page at a time (by
offset: jobs number in the thousands, not millions; ix_jobs_created_at keeps the order an
index walk), optionally of one status. The JobStore serves everything else about a job."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.db.jobs import JobStatus, JobSummary
from orchestrator.db.models import JobRow


class JobListed(JobSummary):
    key_id: str | None  # the key that submitted it


class JobPage(BaseModel):
    rows: list[JobListed]
    total: int  # jobs of the status asked for (all jobs without one)


class JobList:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def page(self, status: JobStatus | None = None, offset: int = 0, limit: int = 50) -> JobPage:
        listed = select(JobRow).order_by(JobRow.created_at.desc(), JobRow.id.desc())
        counted = select(func.count()).select_from(JobRow)
        if status is not None:
            listed = listed.where(JobRow.status == status)
            counted = counted.where(JobRow.status == status)
        with self.sessions() as session:
            rows = session.scalars(listed.offset(offset).limit(limit))
            jobs = [JobListed.model_validate(r, from_attributes=True) for r in rows]
            return JobPage(rows=jobs, total=int(session.scalar(counted) or 0))
