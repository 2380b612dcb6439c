"""TraceStore: saves batches of traces and reads them back, with the digests of their plans
that recruitment statistics count.

Callers hand in and get back the pydantic objects (Trace, BatchReport); rows never leave
orchestrator.db. Every write is one transaction: it lands whole or not at all.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload, sessionmaker

from orchestrator.db.convert import trace_from_row
from orchestrator.db.models import BatchRow, ModelCallRow, ModelLoadRow, PlanRow, QueryRow
from orchestrator.db.trace_rows import insert_reports
from orchestrator.db.write_lock import WriteLock
from orchestrator.errors import SymoeError
from orchestrator.trace import BatchReport, ModelLoad, StageTiming, Trace

# What a Trace needs besides its query row; loaded in a few queries, not one per call.
_TRACE_PARTS = (
    joinedload(QueryRow.plan),
    joinedload(QueryRow.final),
    joinedload(QueryRow.batch),
    selectinload(QueryRow.calls),
)


class DuplicateBatchError(SymoeError):
    """The batch, or one of its query ids, is already stored; nothing of it was written."""


class PlanDigest(BaseModel):
    """What recruitment statistics need of one stored query."""

    skills: list[str]
    drawn: list[str]
    aggregator: str | None
    weights: dict[str, float]
    aggregator_failed: bool = False  # a TraceEvent "aggregator_failed": a vote answered
    answered: list[tuple[int, str]]  # (slot, expert) of each expert call that answered


class TraceStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        # several API processes on one SQLite file: their commits queue on a file lock
        self._write_lock = WriteLock.for_engine(sessions.kw["bind"])

    def save_batch(self, report: BatchReport) -> None:
        """Store a batch with all its traces and loads in one transaction.

        Saving is not idempotent on purpose: a batch id or query id that is already stored
        raises DuplicateBatchError and leaves the database as it was, so a retried save can
        never double a batch's tokens or loads. Trace.stages and Trace.batch_id are stored
        once, on the batch; a trace that carries different values raises ValueError.
        """
        try:
            with self._write_lock, self.sessions.begin() as session:
                if session.get(BatchRow, report.batch_id) is not None:
                    raise DuplicateBatchError(f"batch {report.batch_id!r} is already stored")
                insert_reports(session, [report])
        except IntegrityError as exc:  # a query id stored before, or two saves racing
            reason = str(exc.orig).splitlines()[0]
            raise DuplicateBatchError(
                f"batch {report.batch_id!r} conflicts with stored data: {reason}"
            ) from exc

    def save_batches(self, reports: list[BatchReport]) -> list[Exception | None]:
        """Store several batches in one transaction (a group commit); each report's outcome
        in order: None when stored, else the error that kept it out. When the group fails
        (a duplicate, text that cannot be stored, ...) each is stored alone, so a bad one
        fails by itself."""
        try:
            # no look-up first: a stored batch or query id breaks the primary key, and the
            # report stored alone below then names it (DuplicateBatchError)
            with self._write_lock, self.sessions.begin() as session:
                insert_reports(session, reports)
        except Exception:  # each report then gets its own error below
            return [self._outcome(report) for report in reports]
        return [None] * len(reports)

    def _outcome(self, report: BatchReport) -> Exception | None:
        try:
            self.save_batch(report)
        except Exception as exc:  # handed back to the report's caller
            return exc
        return None

    def get_trace(self, query_id: str) -> Trace | None:
        with self.sessions() as session:
            row = session.scalars(
                select(QueryRow).where(QueryRow.id == query_id).options(*_TRACE_PARTS)
            ).one_or_none()
            return None if row is None else trace_from_row(row)

    def call_totals(self) -> tuple[int, int, int]:
        """(model calls, prompt tokens, completion tokens) of every stored trace: what a
        benchmark reads before and after the work it measures."""
        with self.sessions() as session:
            calls, prompt, completion = session.execute(
                select(
                    func.count(ModelCallRow.id),
                    func.coalesce(func.sum(ModelCallRow.prompt_tokens), 0),
                    func.coalesce(func.sum(ModelCallRow.completion_tokens), 0),
                )
            ).one()
        return int(calls), int(prompt), int(completion)

    def recent(self, limit: int = 20) -> list[Trace]:
        """The newest traces first; queries of one batch in batch order."""
        with self.sessions() as session:
            rows = session.scalars(
                select(QueryRow)
                .options(*_TRACE_PARTS)
                .order_by(QueryRow.created_at.desc(), QueryRow.batch_id, QueryRow.position)
                .limit(limit)
            ).unique()
            return [trace_from_row(row) for row in rows]

    def get_batch(self, batch_id: str) -> BatchReport | None:
        with self.sessions() as session:
            batch = session.get(BatchRow, batch_id)
            if batch is None:
                return None
            queries = session.scalars(
                select(QueryRow)
                .where(QueryRow.batch_id == batch_id)
                .options(*_TRACE_PARTS)
                .order_by(QueryRow.position)
            ).unique()
            return BatchReport(
                batch_id=batch.id,
                traces=[trace_from_row(row) for row in queries],
                stages=[StageTiming.model_validate(s) for s in batch.stages],
                loads=[ModelLoad.model_validate(r, from_attributes=True) for r in batch.loads],
                seconds=batch.seconds,
            )

    def loads(self, batch_id: str) -> list[ModelLoad]:
        with self.sessions() as session:
            rows = session.scalars(
                select(ModelLoadRow)
                .where(ModelLoadRow.batch_id == batch_id)
                .order_by(ModelLoadRow.position)
            )
            return [ModelLoad.model_validate(r, from_attributes=True) for r in rows]

    def plan_digests(self, since: datetime | None = None, limit: int = 10_000) -> list[PlanDigest]:
        """The newest `limit` stored queries (created at or after `since`) as the parts of
        their plans and calls that recruitment statistics count."""
        newest = select(QueryRow.id).order_by(QueryRow.created_at.desc()).limit(limit)
        if since is not None:
            newest = newest.where(QueryRow.created_at >= since)
        ids = newest.subquery()
        with self.sessions() as session:
            answered: dict[str, list[tuple[int, str]]] = {}
            calls = session.execute(
                select(ModelCallRow.query_id, ModelCallRow.slot, ModelCallRow.expert).where(
                    ModelCallRow.stage == "experts", ModelCallRow.query_id.in_(select(ids.c.id))
                )
            )
            for query_id, slot, expert in calls:
                answered.setdefault(query_id, []).append((slot, expert))
            plans = session.execute(
                select(
                    PlanRow.query_id,
                    PlanRow.skills,
                    PlanRow.drawn,
                    PlanRow.aggregator,
                    PlanRow.recruitment["weights"],
                    PlanRow.events,
                ).where(PlanRow.query_id.in_(select(ids.c.id)))
            )
            return [
                PlanDigest(
                    skills=skills,
                    drawn=drawn,
                    aggregator=aggregator,
                    weights=weights or {},
                    aggregator_failed=any(
                        e.get("kind") == "aggregator_failed" for e in events or []
                    ),
                    answered=answered.get(query_id, []),
                )
                for query_id, skills, drawn, aggregator, weights, events in plans
            ]
