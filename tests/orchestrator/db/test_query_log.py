"""QueryLog (the dashboard's query list and batch loads) and JobList, on SQLite and (marked
postgres) on PostgreSQL: filters in SQL, keyset pages that neither skip nor repeat a query
(a batch's queries share one instant), cursors that refuse garbage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, event

from orchestrator.db import Stores, migrate, session_factory
from orchestrator.db.job_list import JobList
from orchestrator.db.query_log import Cursor, QueryFilter, QueryLog
from orchestrator.errors import InputError
from orchestrator.trace import BatchReport, ModelCall, ModelLoad, Recruitment, SkillTagging, Trace


def trace(query_id: str, question: str, drawn: list[str], error: str | None = None) -> Trace:
    return Trace(
        query_id=query_id,
        question=question,
        tagging=SkillTagging(method="fixed", skills=["algebra"]),
        recruitment=Recruitment(recruiter="uniform", profile_set=None, drawn=drawn),
        calls=[]
        if error
        else [
            *(
                ModelCall(stage="experts", expert=e, slot=i, text="(B)")
                for i, e in enumerate(drawn)
            ),
            ModelCall(stage="aggregate", expert="agg", text="(B)"),
        ],
        answer="" if error else "The answer is (B).",
        extracted_answer=None if error else "B",
        error=error,
    )


def seeded(stores: Stores) -> QueryLog:
    """25 queries in 5 batches of 5 (one instant each); q07 and q21 failed."""
    for b in range(5):
        traces = []
        for i in range(5):
            n = b * 5 + i
            drawn = ["e_1"] if n % 3 == 0 else ["e1", "e%"]  # names with LIKE wildcards
            error = "BackendError: out of memory" if n in (7, 21) else None
            traces.append(trace(f"q{n:02d}", f"Question {n}: what is 100% of {n}?", drawn, error))
        loads = [ModelLoad(stage="experts", expert=e, seconds=0.1) for e in ["e1", "e2", "e1"][:b]]
        stores.traces.save_batch(BatchReport(batch_id=f"b{b}", traces=traces, loads=loads))
    return QueryLog(stores.sessions)


@pytest.fixture
def log(stores: Stores) -> QueryLog:
    return seeded(stores)


@pytest.fixture
def log_on() -> Callable[[Engine], QueryLog]:
    def make(engine: Engine) -> QueryLog:
        migrate(engine)
        return seeded(Stores(session_factory(engine)))

    return make


def all_pages(log: QueryLog, where: QueryFilter, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = log.page(where, limit, before=cursor)
        pages.append([r.id for r in page.rows])
        if page.older is None:
            return pages
        cursor = Cursor.decode(page.older)


def test_pages_walk_every_query_once_newest_first(log: QueryLog) -> None:
    pages = all_pages(log, QueryFilter(), 4)
    seen = [q for p in pages for q in p]
    assert len(pages) == 7 and sorted(seen) == [f"q{n:02d}" for n in range(25)]
    assert seen[:5] == sorted(seen[:5], reverse=True)  # the newest batch first: b4
    assert set(seen[:5]) == {f"q{n}" for n in range(20, 25)}
    # and back: the page before the second is the first
    first = log.page(QueryFilter(), 4)
    assert first.older is not None
    second = log.page(QueryFilter(), 4, before=Cursor.decode(first.older))
    back = log.page(QueryFilter(), 4, after=second.rows[0].cursor)
    assert [r.id for r in back.rows] == pages[0] and back.newer is None and back.older
    assert first.newer is None and second.newer is not None


def test_filters_find_and_exclude(log: QueryLog) -> None:
    def ids(**where: object) -> set[str]:
        return {r.id for r in log.page(QueryFilter(**where), 100).rows}  # type: ignore[arg-type]

    assert ids(text="question 1") == {"q01", *(f"q{n}" for n in range(10, 20))}
    assert ids(text="100%") == {f"q{n:02d}" for n in range(25)}
    assert ids(text="1_0") == set()  # `_` is a character, not a wildcard
    assert ids(status="failed") == {"q07", "q21"} == ids(error="OUT OF MEMORY")
    assert ids(expert="e_1") == {f"q{n:02d}" for n in range(0, 25, 3) if n != 21}
    assert ids(expert="e%") == {f"q{n:02d}" for n in range(25) if n % 3 and n not in (7, 21)}
    assert ids(expert="e") == set()  # a whole name, not a part of one
    assert ids(expert="agg") == set()  # aggregating is not answering a slot
    # q07 and q21 failed before any call: the experts drawn for them answered nothing
    assert ids(expert="e1", status="failed") == set() and "q07" not in ids(expert="e1")
    assert log.count(QueryFilter(expert="e1")) == 15 and log.count(QueryFilter(text="?")) == 25
    assert log.count(QueryFilter(text="?"), cap=10) == 10  # a filter's count stops at the cap
    assert log.count(QueryFilter(), cap=10) == 25  # all queries: an exact index count
    assert ids(text="QUESTION 24") == {"q24"}  # case ignored on both databases
    row = log.page(QueryFilter(text="question 7:"), 1).rows[0]
    assert row.error == "BackendError: out of memory" and row.answer is None
    assert log.page(QueryFilter(text="question 8:"), 1).rows[0].answer == "B"


def test_get_and_batch_loads(log: QueryLog) -> None:
    got = log.get("q03")
    assert got is not None and got.drawn == ["e_1"] and got.batch_id == "b0"
    assert log.get("nope") is None
    loads = log.batch_loads(limit=3)
    assert [(b.id, b.loads, b.experts, b.queries) for b in loads] == [
        ("b2", 2, 2, 5),
        ("b3", 3, 2, 5),
        ("b4", 3, 2, 5),
    ]
    twice = {"e1": 2, "e2": 1}
    assert [b.per_expert for b in loads] == [{"e1": 1, "e2": 1}, twice, twice]
    assert log.batch_loads(limit=5)[0].per_expert == {}  # b0 loaded nothing


@pytest.mark.parametrize("bad", ["", "2026-01-01", "nonsense~q1", "~q1"])
def test_a_bad_cursor_is_an_input_error(bad: str) -> None:
    with pytest.raises(InputError):
        Cursor.decode(bad)


def test_job_list_pages_newest_first_by_status(stores: Stores) -> None:
    for i in range(7):
        stores.jobs.create(f"j{i}", "k1", None, {}, ["q1", "q2"])
    stores.jobs.cancel("j2")
    jobs = JobList(stores.sessions)
    first = jobs.page(limit=3)
    assert first.total == 7 and [j.id for j in first.rows] == ["j6", "j5", "j4"]
    assert [j.id for j in jobs.page(offset=6, limit=3).rows] == ["j0"]
    cancelled = jobs.page(status="cancelled")
    assert cancelled.total == 1 and cancelled.rows[0].id == "j2"
    assert cancelled.rows[0].key_id == "k1" and cancelled.rows[0].total == 2


def test_the_expert_filter_walks_the_newest_first_index_on_sqlite(
    sqlite_engine: Engine, log_on: Callable[[Engine], QueryLog]
) -> None:
    log = log_on(sqlite_engine)
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT queries.id"):
            seen.append((statement, params))

    event.listen(sqlite_engine, "before_cursor_execute", keep)
    log.page(QueryFilter(expert="e1"), 5)
    event.remove(sqlite_engine, "before_cursor_execute", keep)
    statement, params = seen[0]
    assert "+queries.id IN (SELECT model_calls.query_id" in statement
    with sqlite_engine.connect() as conn:
        plan = " | ".join(
            r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
        )
    assert "SCAN queries USING INDEX ix_queries_created_at_id" in plan, plan
    assert "ix_model_calls_expert_stage_query_id" in plan, plan
