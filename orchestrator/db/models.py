"""The database schema as SQLAlchemy 2.0 declarative models.

Rows mirror the pydantic objects in orchestrator.trace, orchestrator.experts and
skills.profiles; conversion lives in orchestrator.db.convert. Nested, rarely queried parts
(tagging, recruitment, profile bodies, expert configs) are JSON columns: sqlalchemy.JSON maps
to JSON on PostgreSQL and TEXT on SQLite, so one schema serves both. The columns that the
dashboard filters or sums on (status, tokens, seconds, skills, drawn experts) are kept flat.

Alembic migrations (migrations/versions) are the only way this schema reaches a database;
`tests/orchestrator/db` checks that the migrations and these models agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from orchestrator.db.types import UTCDateTime

# Deterministic constraint names: Alembic needs them to alter constraints later, and SQLite
# batch migrations cannot drop an unnamed constraint.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Json = dict[str, Any]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ExpertRow(Base):
    __tablename__ = "experts"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    backend: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(Text)
    config: Mapped[Json] = mapped_column(JSON)  # the full Expert dump
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ProfileSetRow(Base):
    __tablename__ = "profile_sets"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    # When the row was stored; the body keeps the set's own build time.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    benchmark: Mapped[str] = mapped_column(String(128), default="")
    split: Mapped[str] = mapped_column(String(128), default="")
    tagger: Mapped[str] = mapped_column(String(128), default="")
    command: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[Json] = mapped_column(JSON)  # the ProfileSet dump
    active: Mapped[bool] = mapped_column(Boolean, default=False)


class BatchRow(Base):
    __tablename__ = "batches"
    # the dashboard's routing page reads the newest batches' loads (migration 0009)
    __table_args__ = (Index("ix_batches_created_at", "created_at"),)

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    n_queries: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    stages: Mapped[list[Json]] = mapped_column(JSON)  # StageTiming dumps, in order

    queries: Mapped[list[QueryRow]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", order_by="QueryRow.position"
    )
    loads: Mapped[list[ModelLoadRow]] = relationship(
        cascade="all, delete-orphan", order_by="ModelLoadRow.position"
    )


class QueryRow(Base):
    __tablename__ = "queries"
    __table_args__ = (
        CheckConstraint("status IN ('answered', 'failed')", name="status"),
        # the dashboard's query list: newest first, paged by (created_at, id) (a batch's
        # queries share one instant), and the same filtered by status (migration 0009)
        Index("ix_queries_created_at_id", "created_at", "id"),
        Index("ix_queries_status_created_at", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # index within the batch
    question: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    seconds: Mapped[float] = mapped_column(Float)
    # Sums over the calls, stored so the dashboard can total tokens without a join.
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)

    batch: Mapped[BatchRow] = relationship(back_populates="queries")
    plan: Mapped[PlanRow | None] = relationship(cascade="all, delete-orphan")
    calls: Mapped[list[ModelCallRow]] = relationship(
        cascade="all, delete-orphan", order_by="ModelCallRow.position"
    )
    final: Mapped[FinalAnswerRow | None] = relationship(cascade="all, delete-orphan")


class PlanRow(Base):
    __tablename__ = "plans"

    query_id: Mapped[str] = mapped_column(
        ForeignKey("queries.id", ondelete="CASCADE"), primary_key=True
    )
    tagging: Mapped[Json] = mapped_column(JSON)  # the SkillTagging dump
    recruitment: Mapped[Json] = mapped_column(JSON)  # the Recruitment dump
    # Copies of tagging.skills, recruitment.drawn and recruitment.aggregator for queries.
    skills: Mapped[list[str]] = mapped_column(JSON)
    drawn: Mapped[list[str]] = mapped_column(JSON)
    aggregator: Mapped[str | None] = mapped_column(String(64))
    # The RetrievalDecision and the TraceEvents (admin statistics count the events).
    retrieval: Mapped[Json | None] = mapped_column(JSON, nullable=True)
    events: Mapped[list[Json] | None] = mapped_column(JSON, nullable=True)


class ModelCallRow(Base):
    __tablename__ = "model_calls"
    # the dashboard's "expert answered" filter: the queries an expert answered in (0010)
    __table_args__ = (Index("ix_model_calls_expert_stage_query_id", "expert", "stage", "query_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    query_id: Mapped[str] = mapped_column(ForeignKey("queries.id", ondelete="CASCADE"), index=True)
    # Explicit order: autoincrement ids are not guaranteed to follow insertion order on
    # every backend once inserts are batched.
    position: Mapped[int] = mapped_column(Integer)  # index within the trace's calls
    stage: Mapped[str] = mapped_column(String(64))
    expert: Mapped[str] = mapped_column(String(64))
    slot: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    extracted: Mapped[str | None] = mapped_column(Text)


class FinalAnswerRow(Base):
    __tablename__ = "final_answers"

    query_id: Mapped[str] = mapped_column(
        ForeignKey("queries.id", ondelete="CASCADE"), primary_key=True
    )
    text: Mapped[str] = mapped_column(Text)
    extracted: Mapped[str | None] = mapped_column(Text)


class ModelLoadRow(Base):
    __tablename__ = "model_loads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # index within the batch's loads
    stage: Mapped[str] = mapped_column(String(64))
    expert: Mapped[str] = mapped_column(String(64))
    seconds: Mapped[float] = mapped_column(Float)


class EvalRunRow(Base):
    """One `symoe eval run`: its config up front, its metrics once it is done. The
    predictions stay in the run's output directory; the row points at it."""

    __tablename__ = "eval_runs"
    __table_args__ = (CheckConstraint("status IN ('running', 'done', 'failed')", name="status"),)

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    benchmark: Mapped[str] = mapped_column(String(128))
    split: Mapped[str] = mapped_column(String(128))
    out_dir: Mapped[str] = mapped_column(Text)
    config: Mapped[Json] = mapped_column(JSON)  # DIR/config.json
    metrics: Mapped[Json | None] = mapped_column(JSON)  # DIR/metrics.json, once finished
    status: Mapped[str] = mapped_column(String(16), default="running")


class ApiKeyRow(Base):
    """An API key: only its SHA-256 is stored; the key itself is shown once at creation."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint("role IN ('user', 'admin')", name="role"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # public prefix, "sk-<id>-"
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class JobRow(Base):
    """A batch job submitted over the API; its items are answered in the background."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed', 'cancelled')", name="status"
        ),
        UniqueConstraint("key_id", "idempotency_key"),
        Index("ix_jobs_created_at", "created_at"),  # the dashboard's list, newest first (0009)
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    request: Mapped[Json] = mapped_column(JSON)  # questions and options as submitted
    total: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobItemRow(Base):
    """One question of a job: its answer (and the trace's query id) once done."""

    __tablename__ = "job_items"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    extracted: Mapped[str | None] = mapped_column(Text, nullable=True)
    query_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
