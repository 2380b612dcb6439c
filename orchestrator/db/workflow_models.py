"""The workflow tables: runs of agent-team workflows, their steps and the candidates'
attempts, so that a run killed mid-way resumes from its last finished step. Same declarative
base and conventions as models.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.db.models import Base, Json, utcnow
from orchestrator.db.types import UTCDateTime


class WorkflowRunRow(Base):
    """One run of a workflow: the spec it ran (by hash) on an input, and where it stands."""

    __tablename__ = "workflow_runs"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'running', 'succeeded', 'failed')", name="status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex
    workflow: Mapped[str] = mapped_column(String(128))
    # The workflow file's SHA-256: a resume can tell whether the spec changed under it.
    spec_sha256: Mapped[str] = mapped_column(String(64))
    input: Mapped[Json] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WorkflowStepRow(Base):
    """One step of a run (plan, a sub-task's generation, assemble...), keyed per run. A done
    step's output is what a resume hands on instead of running the step again."""

    __tablename__ = "workflow_steps"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'done', 'failed')", name="status"),
        UniqueConstraint("run_id", "key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("workflow_runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    output: Mapped[Json | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WorkflowAttemptRow(Base):
    """One candidate's try at a sub-task: the orchestrator.workflows.types.Attempt dump, with
    the fields that identify it kept flat (and unique per run)."""

    __tablename__ = "workflow_attempts"
    __table_args__ = (UniqueConstraint("run_id", "task_id", "candidate", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("workflow_runs.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(255))
    candidate: Mapped[str] = mapped_column(String(128))
    number: Mapped[int] = mapped_column(Integer)
    # The sub-task's type (migration 0008; NULL before it): route: profile ranks candidates
    # by their attempts on one type.
    task_type: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    body: Mapped[Json] = mapped_column(JSON)  # Attempt.model_dump(mode="json")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
