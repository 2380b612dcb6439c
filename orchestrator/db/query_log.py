"""QueryLog: the stored queries as the dashboard lists them — filtered in SQL, newest first,
a page at a time — and the newest batches' model loads.

Paging is by keyset on (created_at, id), never by offset: a page deep in 100k queries costs
what the first one does (index ix_queries_created_at_id; a status filter uses
ix_queries_status_created_at). A batch's queries share one instant, hence the id. Text
filters are substring matches (LIKE, wildcards in the text escaped: no index serves them, so
they scan). The expert filter keeps the queries the expert answered a slot of (model calls
of the experts' stage, ix_model_calls_expert_stage_query_id); a drawn expert whose call
failed left no call and is not found by it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    String,
    func,
    literal,
    select,
    tuple_,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

from orchestrator.db.models import (
    BatchRow,
    FinalAnswerRow,
    ModelCallRow,
    ModelLoadRow,
    PlanRow,
    QueryRow,
)
from orchestrator.db.types import UTCDateTime, as_utc
from orchestrator.errors import InputError

QueryStatus = Literal["answered", "failed"]
SNIPPET = 300  # characters of a question or answer a list row carries
EXPERT_STAGE = "experts"  # the stage of the drawn experts' calls (execution.py)


@dataclass(frozen=True)
class QueryFilter:
    """Empty fields filter nothing."""

    text: str = ""  # in the question
    expert: str = ""  # answered a slot of the committee
    status: QueryStatus | None = None
    error: str = ""  # in the error message


@dataclass(frozen=True)
class Cursor:
    """A position in the newest-first order: the (created_at, id) of a row."""

    created_at: datetime
    id: str

    def encode(self) -> str:
        return f"{self.created_at.isoformat()}~{self.id}"

    @classmethod
    def decode(cls, value: str) -> Cursor:
        when, sep, query_id = value.partition("~")
        try:
            created_at = datetime.fromisoformat(when)
        except ValueError:
            created_at = None
        if not sep or not query_id or created_at is None:
            raise InputError(f"not a page position: {value[:80]!r}", "cursor")
        return cls(as_utc(created_at), query_id)


class QueryListed(BaseModel):
    """One stored query as a list row: question and answer cut to SNIPPET characters."""

    id: str
    batch_id: str
    created_at: datetime
    question: str
    status: QueryStatus
    error: str | None
    seconds: float
    prompt_tokens: int
    completion_tokens: int
    drawn: list[str]
    aggregator: str | None
    answer: str | None  # the extracted answer, else the start of the answer's text

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.created_at, self.id)


class QueryPage(BaseModel):
    rows: list[QueryListed]
    older: str | None  # the cursor of the next page (older queries), if there is one
    newer: str | None  # the cursor of the page before (newer queries), if there is one


class BatchLoads(BaseModel):
    """What one batch loaded: `loads` model loads of `experts` distinct experts, and how
    many of them were each expert's (`per_expert`)."""

    id: str
    created_at: datetime
    queries: int
    seconds: float
    loads: int
    experts: int
    per_expert: dict[str, int] = {}


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(text: str) -> str:
    return f"%{_escaped(text)}%"


def _filtered(query: Select[Any], f: QueryFilter) -> Select[Any]:
    if f.text:
        query = query.where(_ContainsText(QueryRow.question, _contains(f.text)))
    if f.status is not None:
        query = query.where(QueryRow.status == f.status)
    if f.error:
        query = query.where(_ContainsText(QueryRow.error, _contains(f.error)))
    if f.expert:
        answered = select(ModelCallRow.query_id).where(
            ModelCallRow.expert == f.expert, ModelCallRow.stage == EXPERT_STAGE
        )
        query = query.where(_Scanned(QueryRow.id).in_(answered))
    return query


class _Scanned(FunctionElement[str]):
    """A column SQLite must not search by (unary +): with `id IN (answered)` it would
    otherwise read every query the expert answered and sort them all, where walking the
    newest-first index and testing membership stops after a page. PostgreSQL plans the
    semi-join itself; there it is the bare column."""

    inherit_cache = True
    type = String()


class _ContainsText(FunctionElement[bool]):
    """`column LIKE pattern`, ignoring case: ILIKE on PostgreSQL; LIKE on SQLite, whose LIKE
    ignores the case of ASCII letters already (lower() on both sides, SQLAlchemy's ilike
    there, costs three times as much on 100k questions)."""

    inherit_cache = True
    type = Boolean()


def _like(element: _ContainsText, compiler: SQLCompiler, operator: str, **kw: Any) -> str:
    column, pattern = (compiler.process(c, **kw) for c in element.clauses)
    return f"{column} {operator} {pattern} ESCAPE '\\'"


@compiles(_ContainsText)
def _contains_sql(element: _ContainsText, compiler: SQLCompiler, **kw: Any) -> str:
    return _like(element, compiler, "ILIKE", **kw)


@compiles(_ContainsText, "sqlite")
def _contains_sqlite(element: _ContainsText, compiler: SQLCompiler, **kw: Any) -> str:
    return _like(element, compiler, "LIKE", **kw)


@compiles(_Scanned)
def _scanned_sql(element: _Scanned, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_Scanned, "sqlite")
def _scanned_sqlite(element: _Scanned, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.clauses, **kw)


def _position() -> ColumnElement[Any]:
    return tuple_(QueryRow.created_at, QueryRow.id)


def _at(cursor: Cursor) -> ColumnElement[Any]:
    return tuple_(literal(cursor.created_at, UTCDateTime()), literal(cursor.id))


class QueryLog:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def page(
        self,
        where: QueryFilter,
        limit: int = 50,
        before: Cursor | None = None,
        after: Cursor | None = None,
    ) -> QueryPage:
        """Up to `limit` matching queries, newest first: the newest, or those just older
        than `before`, or those just newer than `after`."""
        columns = select(
            QueryRow.id,
            QueryRow.batch_id,
            QueryRow.created_at,
            func.substr(QueryRow.question, 1, SNIPPET).label("question"),
            QueryRow.status,
            QueryRow.error,
            QueryRow.seconds,
            QueryRow.prompt_tokens,
            QueryRow.completion_tokens,
            PlanRow.drawn,
            PlanRow.aggregator,
            func.coalesce(
                FinalAnswerRow.extracted, func.substr(FinalAnswerRow.text, 1, SNIPPET)
            ).label("answer"),
        )
        base = _filtered(
            columns.join(PlanRow, PlanRow.query_id == QueryRow.id).outerjoin(
                FinalAnswerRow, FinalAnswerRow.query_id == QueryRow.id
            ),
            where,
        )
        if after is not None:  # newer ones: walk up from `after`, then show newest first
            found = base.where(_position() > _at(after))
            found = found.order_by(QueryRow.created_at, QueryRow.id)
        else:
            found = base if before is None else base.where(_position() < _at(before))
            found = found.order_by(QueryRow.created_at.desc(), QueryRow.id.desc())
        with self.sessions() as session:
            raw = session.execute(found.limit(limit + 1)).all()
            more = len(raw) > limit
            rows = [QueryListed.model_validate(r._mapping) for r in raw[:limit]]
            if after is not None:
                rows.reverse()
            if not rows:
                return QueryPage(rows=[], older=None, newer=None)
            newer = more if after is not None else self._exists(session, base, rows[0], ">")
            older = more if after is None else self._exists(session, base, rows[-1], "<")
        return QueryPage(
            rows=rows,
            older=rows[-1].cursor.encode() if older else None,
            newer=rows[0].cursor.encode() if newer else None,
        )

    @staticmethod
    def _exists(session: Session, base: Select[Any], row: QueryListed, side: str) -> bool:
        beyond = _position() > _at(row.cursor) if side == ">" else _position() < _at(row.cursor)
        return session.execute(base.where(beyond).limit(1)).first() is not None

    def count(self, where: QueryFilter, cap: int = 1000) -> int:
        """How many queries match: all of them without a filter (an index count), else
        counted up to `cap` (a filter's count scans, as far as `cap` matches)."""
        with self.sessions() as session:
            if where == QueryFilter():
                return int(session.scalar(select(func.count()).select_from(QueryRow)) or 0)
            matching = _filtered(
                select(QueryRow.id).join(PlanRow, PlanRow.query_id == QueryRow.id), where
            ).limit(cap)
            return int(session.scalar(select(func.count()).select_from(matching.subquery())) or 0)

    def get(self, query_id: str) -> QueryListed | None:
        """One query's list row (its time and totals, for the trace page's heading)."""
        with self.sessions() as session:
            row = session.get(QueryRow, query_id)
            if row is None:
                return None
            plan, final = row.plan, row.final
            return QueryListed(
                id=row.id,
                batch_id=row.batch_id,
                created_at=row.created_at,
                question=row.question[:SNIPPET],
                status=row.status,
                error=row.error,
                seconds=row.seconds,
                prompt_tokens=row.prompt_tokens,
                completion_tokens=row.completion_tokens,
                drawn=plan.drawn if plan else [],
                aggregator=plan.aggregator if plan else None,
                answer=(final.extracted or final.text[:SNIPPET]) if final else None,
            )

    def batch_loads(self, limit: int = 200) -> list[BatchLoads]:
        """The newest `limit` batches, oldest first, with the loads each made (counted per
        batch and expert in SQL; a batch without loads is one row with no expert)."""
        newest = select(BatchRow).order_by(BatchRow.created_at.desc()).limit(limit).subquery()
        batch = (newest.c.id, newest.c.created_at, newest.c.n_queries, newest.c.seconds)
        query = (
            select(*batch, ModelLoadRow.expert, func.count(ModelLoadRow.id))
            .outerjoin(ModelLoadRow, ModelLoadRow.batch_id == newest.c.id)
            .group_by(*batch, ModelLoadRow.expert)
            .order_by(newest.c.created_at, newest.c.id)
        )
        found: dict[str, BatchLoads] = {}
        with self.sessions() as session:
            for i, at, n, s, expert, loads in session.execute(query):
                row = found.setdefault(
                    i,
                    BatchLoads(
                        id=i, created_at=as_utc(at), queries=n, seconds=s, loads=0, experts=0
                    ),
                )
                if expert is not None:
                    row.per_expert[expert] = loads
                    row.loads += loads
                    row.experts += 1
        return list(found.values())
