"""TraceStore, on SQLite and (marked postgres) on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from orchestrator.db import DuplicateBatchError, Stores, TraceStore
from orchestrator.errors import InputError
from orchestrator.plan import BatchOptions, Query
from orchestrator.trace import (
    BatchReport,
    ModelCall,
    ModelLoad,
    Recruitment,
    SkillTagging,
    StageTiming,
    Trace,
)
from tests.orchestrator.conftest import AnsweringFactory, scripted_expert
from tests.orchestrator.db.conftest import row_counts

STAGES = [
    StageTiming(stage="tag", seconds=0.25, groups=1, loads=1, load_seconds=0.125),
    StageTiming(stage="expert", seconds=1.5, groups=2, loads=2, load_seconds=0.75),
]


def make_trace(query_id: str, batch_id: str, *, failed: bool = False) -> Trace:
    calls = [
        ModelCall(stage="expert", expert="smol", slot=0, text="B because", prompt_tokens=31,
                  completion_tokens=7, seconds=0.3125, extracted="B"),
        ModelCall(stage="expert", expert="smol", slot=1, text="Probably C", prompt_tokens=31,
                  completion_tokens=3, seconds=0.25, extracted=None),
        ModelCall(stage="aggregate", expert="gemma", text="Final: B", prompt_tokens=80,
                  completion_tokens=4, seconds=0.5, extracted="B"),
    ]  # fmt: skip
    return Trace(
        query_id=query_id,
        batch_id=batch_id,
        question=f"Question {query_id}: which option? ünïcode ✓",
        tagging=SkillTagging(
            method="embedding",
            keywords=["Calculus", "limits"],
            skills=["calculus"],
            similarities={"calculus": 0.8125, "limits": 0.4375},
            notes=["limits below floor"],
        ),
        recruitment=Recruitment(
            recruiter="symbolic",
            profile_set="local@v1",
            global_competence={"smol": 0.625, "gemma": 0.375},
            local_suitability={"smol": 3.0, "gemma": -1.0},
            weights={"smol": 1.0},
            drawn=["smol", "smol"],
            aggregator="gemma",
            notes=["seed 0"],
        ),
        calls=[] if failed else calls,
        answer="" if failed else "Final: B",
        extracted_answer=None if failed else "B",
        stages=STAGES,
        seconds=2.0625,
        error="PromptTooLongError: 5000 > 2048" if failed else None,
    )


def make_report(batch_id: str, query_ids: list[str]) -> BatchReport:
    traces = [make_trace(q, batch_id, failed=i == 1) for i, q in enumerate(query_ids)]
    loads = [ModelLoad(stage="tag", expert="smol", seconds=0.125),
             ModelLoad(stage="aggregate", expert="gemma", seconds=0.75)]  # fmt: skip
    return BatchReport(batch_id=batch_id, traces=traces, stages=STAGES, loads=loads, seconds=2.5)


@pytest.fixture
def store(stores: Stores) -> TraceStore:
    return stores.traces


def test_batch_round_trip(store: TraceStore) -> None:
    report = make_report("b1", ["q1", "q2"])
    store.save_batch(report)
    assert store.get_batch("b1") == report
    assert store.get_trace("q1") == report.traces[0]
    assert store.get_trace("q2") == report.traces[1]
    assert store.get_trace("nope") is None
    assert store.loads("b1") == report.loads
    assert store.recent(10) == report.traces
    assert store.recent(1) == report.traces[:1]


def test_trace_without_batch_fields_gets_the_batchs(store: TraceStore) -> None:
    report = make_report("b1", ["q1"])
    report.traces[0].batch_id, report.traces[0].stages = "", []
    store.save_batch(report)
    loaded = store.get_trace("q1")
    assert loaded is not None
    assert (loaded.batch_id, loaded.stages) == ("b1", STAGES)


def test_call_totals_count_every_stored_call_and_its_tokens(store: TraceStore) -> None:
    assert store.call_totals() == (0, 0, 0)
    reports = [make_report("b1", ["q1", "q2"]), make_report("b2", ["q3"])]
    for report in reports:
        store.save_batch(report)
    calls = [c for r in reports for t in r.traces for c in t.calls]
    assert calls and store.call_totals() == (
        len(calls),
        sum(c.prompt_tokens for c in calls),
        sum(c.completion_tokens for c in calls),
    )


def test_recent_lists_newest_batch_first(store: TraceStore) -> None:
    store.save_batch(make_report("b1", ["q1", "q2"]))
    store.save_batch(make_report("b2", ["q3", "q4"]))
    assert [t.query_id for t in store.recent(3)] == ["q3", "q4", "q1"]


def test_saving_a_batch_twice_raises_and_changes_nothing(store: TraceStore, engine: Engine) -> None:
    report = make_report("b1", ["q1", "q2"])
    store.save_batch(report)
    before = row_counts(engine)
    with pytest.raises(DuplicateBatchError, match="already stored"):
        store.save_batch(report)
    assert row_counts(engine) == before


def test_failed_save_leaves_nothing_of_the_batch(store: TraceStore, engine: Engine) -> None:
    first = make_report("b1", ["q1", "q2"])
    store.save_batch(first)
    before = row_counts(engine)
    # The new query q3 and the batch row go in before the reused q1 hits the primary key.
    with pytest.raises(DuplicateBatchError, match="conflicts"):
        store.save_batch(make_report("b2", ["q3", "q1"]))
    assert row_counts(engine) == before
    assert store.get_batch("b2") is None
    assert store.get_trace("q3") is None
    assert store.get_batch("b1") == first


def test_trace_with_other_stages_is_refused(store: TraceStore, engine: Engine) -> None:
    report = make_report("b1", ["q1"])
    report.traces[0].stages = STAGES[:1]
    with pytest.raises(ValueError, match="stages"):
        store.save_batch(report)
    assert sum(row_counts(engine).values()) == 0


def test_text_with_nul_is_refused_naming_the_column(store: TraceStore, engine: Engine) -> None:
    """PostgreSQL cannot store NUL in text (psycopg2 raised ValueError, a 500 in the API);
    the engine refuses it on both databases with an InputError the CLI shows as is."""
    report = make_report("b1", ["q1"])
    report.traces[0].question = "What is \x00?"
    with pytest.raises(InputError, match=r"NUL character \(\\x00\) in queries\.question"):
        store.save_batch(report)
    assert sum(row_counts(engine).values()) == 0
    store.save_batch(make_report("b1", ["q1"]))  # the connection is fine afterwards


def test_tokens_and_status_are_stored_flat(store: TraceStore, engine: Engine) -> None:
    store.save_batch(make_report("b1", ["q1", "q2"]))
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, status, prompt_tokens, completion_tokens FROM queries ORDER BY id")
        ).all()
        skills = conn.execute(text("SELECT skills FROM plans WHERE query_id = 'q1'")).scalar()
    assert [tuple(r) for r in rows] == [("q1", "answered", 142, 14), ("q2", "failed", 0, 0)]
    assert skills in (["calculus"], '["calculus"]')  # JSON on PostgreSQL, TEXT on SQLite


def test_a_model_answer_with_nul_is_stored_with_a_replacement(
    store: TraceStore, make_answering: AnsweringFactory
) -> None:
    """A model's NUL must not lose the batch: the completion carries U+FFFD in its place."""
    answering, _ = make_answering([scripted_expert("a", default="The answer is (B).\x00 done")])
    question = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"
    report = answering.answer([Query(text=question)], BatchOptions(k=1, aggregation="vote"))
    store.save_batch(report)
    loaded = store.get_trace(report.traces[0].query_id)
    assert loaded is not None
    assert loaded.answer == "The answer is (B).\ufffd done"
    assert loaded.extracted_answer == "B"
