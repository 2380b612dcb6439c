"""JobStore: batch jobs submitted over the API and their items. Every state change is one
short transaction that starts with a conditional write on the job row (`... WHERE status =
'running'`), so a cancel and a chunk's results can never interleave: whichever commits first
wins, on SQLite and PostgreSQL alike, and a chunk's traces, item results and the job's progress
land together or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.db.models import JobItemRow, JobRow, utcnow
from orchestrator.db.trace_rows import insert_reports
from orchestrator.trace import BatchReport

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
ItemStatus = Literal["queued", "done", "failed", "cancelled"]


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


@dataclass(frozen=True)
class StoredJob:
    summary: JobSummary
    key_id: str | None
    request: dict[str, Any]


class IdempotencyKeyTaken(Exception):
    """Another job of the same key already carries this Idempotency-Key."""


class ChunkConflictError(RuntimeError):
    """Another executor answered an item of this chunk: the chunk is rolled back whole."""


def _stored(row: JobRow) -> StoredJob:
    return StoredJob(JobSummary.model_validate(row, from_attributes=True), row.key_id, row.request)


class JobStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    # -- the API side -------------------------------------------------------------------------

    def create(
        self,
        job_id: str,
        key_id: str | None,
        idempotency_key: str | None,
        request: dict[str, Any],
        questions: list[str],
    ) -> JobSummary:
        """Store a queued job and its items in one transaction."""
        now = utcnow()
        row = JobRow(
            id=job_id,
            key_id=key_id,
            idempotency_key=idempotency_key,
            status="queued",
            request=request,
            total=len(questions),
            completed=0,
            created_at=now,
            updated_at=now,
        )
        try:
            with self.sessions.begin() as session:
                session.add(row)
                session.flush()  # the job first: the items' foreign key needs it
                session.add_all(
                    JobItemRow(job_id=job_id, index=i, question=q, status="queued")
                    for i, q in enumerate(questions)
                )
                return JobSummary.model_validate(row, from_attributes=True)
        except IntegrityError as exc:
            if idempotency_key is not None:
                raise IdempotencyKeyTaken(idempotency_key) from exc
            raise

    def find_idempotent(self, key_id: str | None, idempotency_key: str) -> StoredJob | None:
        with self.sessions() as session:
            row = session.scalar(
                select(JobRow).where(
                    JobRow.key_id == key_id, JobRow.idempotency_key == idempotency_key
                )
            )
            return None if row is None else _stored(row)

    def get(self, job_id: str) -> StoredJob | None:
        with self.sessions() as session:
            row = session.get(JobRow, job_id)
            return None if row is None else _stored(row)

    def items(self, job_id: str, offset: int, limit: int) -> list[JobItem]:
        with self.sessions() as session:
            rows = session.scalars(
                select(JobItemRow)
                .where(JobItemRow.job_id == job_id)
                .order_by(JobItemRow.index)
                .offset(offset)
                .limit(limit)
            )
            return [JobItem.model_validate(r, from_attributes=True) for r in rows]

    def progress(self, job_id: str) -> JobProgress | None:
        with self.sessions() as session:
            row = session.get(JobRow, job_id)
            return None if row is None else JobProgress.model_validate(row, from_attributes=True)

    def cancel(self, job_id: str) -> int | None:
        """Cancel a queued or running job and its unanswered items; returns how many items
        were cancelled, or None when the job had already finished."""
        with self.sessions.begin() as session:
            changed = session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status.in_(("queued", "running")))
                .values(status="cancelled", updated_at=utcnow())
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                return None
            items = session.execute(
                update(JobItemRow)
                .where(JobItemRow.job_id == job_id, JobItemRow.status == "queued")
                .values(status="cancelled")
            )
            return int(items.rowcount)  # type: ignore[attr-defined]

    # -- the executor side --------------------------------------------------------------------

    def waiting_items(self) -> int:
        """Items not yet answered in queued or running jobs (for the queue-depth gauge)."""
        with self.sessions() as session:
            waiting = session.scalar(
                select(func.count())
                .select_from(JobItemRow)
                .join(JobRow, JobRow.id == JobItemRow.job_id)
                .where(JobRow.status.in_(("queued", "running")), JobItemRow.status == "queued")
            )
            return int(waiting or 0)

    def claim_next(self, lease_s: float) -> StoredJob | None:
        """The oldest job to work on, now held by this caller: a queued one, or a running one
        whose executor stopped beating (`updated_at` older than `lease_s`: its server died).
        A live executor's job is never taken, whichever process looks."""
        while True:
            stale = utcnow() - timedelta(seconds=lease_s)
            claimable = (JobRow.status == "queued") | (
                (JobRow.status == "running") & (JobRow.updated_at < stale)
            )
            with self.sessions() as session:
                found = session.execute(
                    select(JobRow.id, JobRow.updated_at)
                    .where(claimable)
                    .order_by(JobRow.created_at, JobRow.id)
                    .limit(1)
                ).first()
            if found is None:
                return None
            job_id, seen = found
            with self.sessions.begin() as session:
                claimed = session.execute(  # only if nobody claimed or beat since we looked
                    update(JobRow)
                    .where(JobRow.id == job_id, JobRow.updated_at == seen, claimable)
                    .values(status="running", updated_at=utcnow())
                )
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    row = session.get(JobRow, job_id)
                    assert row is not None
                    return _stored(row)
            # another executor claimed it, or it was cancelled in between: look again

    def beat(self, job_id: str) -> None:
        """The executor working on a running job is alive (renews its lease)."""
        with self.sessions.begin() as session:
            session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == "running")
                .values(updated_at=utcnow())
            )

    def next_chunk(self, job_id: str, size: int) -> list[tuple[int, str]] | None:
        """The next unanswered items of a running job; None once it is no longer running."""
        with self.sessions() as session:
            status = session.scalar(select(JobRow.status).where(JobRow.id == job_id))
            if status != "running":
                return None
            rows = session.execute(
                select(JobItemRow.index, JobItemRow.question)
                .where(JobItemRow.job_id == job_id, JobItemRow.status == "queued")
                .order_by(JobItemRow.index)
                .limit(size)
            )
            return [(index, question) for index, question in rows]

    def save_chunk(self, job_id: str, indexes: list[int], report: BatchReport) -> bool:
        """One transaction: the chunk's traces, its items' answers and the job's progress.
        Returns False (and stores nothing) when the job stopped running meanwhile."""
        with self.sessions.begin() as session:
            claimed = session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == "running")
                .values(completed=JobRow.completed + len(indexes), updated_at=utcnow())
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return False
            insert_reports(session, [report])
            for index, trace in zip(indexes, report.traces, strict=True):
                done = session.execute(
                    update(JobItemRow)
                    .where(
                        JobItemRow.job_id == job_id,
                        JobItemRow.index == index,
                        JobItemRow.status == "queued",
                    )
                    .values(
                        status="failed" if trace.error else "done",
                        answer=trace.answer,
                        extracted=trace.extracted_answer,
                        query_id=trace.query_id,
                        error=trace.error,
                    )
                )
                if done.rowcount != 1:  # type: ignore[attr-defined]
                    # answered elsewhere already: roll the whole chunk back, count nothing
                    raise ChunkConflictError(f"job {job_id} item {index} is no longer queued")
            return True

    def finish(self, job_id: str) -> bool:
        """Mark a running job done once none of its items waits."""
        with self.sessions.begin() as session:
            waiting = (
                select(JobItemRow.index)
                .where(JobItemRow.job_id == job_id, JobItemRow.status == "queued")
                .exists()
            )
            done = session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == "running", ~waiting)
                .values(status="done", updated_at=utcnow())
            )
            return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    def fail(self, job_id: str, error: str) -> int:
        """Mark a running job failed and its unanswered items with it; returns how many."""
        with self.sessions.begin() as session:
            failed = session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == "running")
                .values(status="failed", error=error, updated_at=utcnow())
            )
            if failed.rowcount != 1:  # type: ignore[attr-defined]
                return 0
            items = session.execute(
                update(JobItemRow)
                .where(JobItemRow.job_id == job_id, JobItemRow.status == "queued")
                .values(status="failed", error=error)
            )
            return int(items.rowcount)  # type: ignore[attr-defined]

    def requeue(self, job_id: str) -> None:
        """Give a running job back to the queue (the executor is stopping)."""
        with self.sessions.begin() as session:
            session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == "running")
                .values(status="queued", updated_at=utcnow())
            )
