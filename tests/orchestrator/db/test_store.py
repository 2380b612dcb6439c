"""TraceStore and migrations, on SQLite and (marked postgres) on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select, text

from orchestrator.db import DuplicateBatchError, TraceStore, make_engine, migrate
from orchestrator.db.engine import is_at_head
from orchestrator.db.models import Base, ExpertRow
from orchestrator.errors import InputError, UnknownExpertError
from orchestrator.experts import Expert
from orchestrator.pipeline import BatchOptions, Query
from orchestrator.trace import (
    BatchReport,
    ModelCall,
    ModelLoad,
    Recruitment,
    SkillTagging,
    StageTiming,
    Trace,
)
from skills.profiles import ProfileSet, SkillScore
from tests.orchestrator.conftest import PipelineFactory, scripted_expert

REPO = Path(__file__).resolve().parents[3]
TABLES = {
    "experts",
    "profile_sets",
    "batches",
    "queries",
    "plans",
    "model_calls",
    "final_answers",
    "model_loads",
    "eval_runs",
    "api_keys",
    "jobs",
    "job_items",
}
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


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) or 0 for t in sorted(TABLES)}


# -- migrations ---------------------------------------------------------------------------


def test_migrate_creates_all_tables_once(engine: Engine) -> None:
    assert not is_at_head(engine)
    assert migrate(engine) is True
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) == TABLES | {"alembic_version"}
    indexed = {
        (table, tuple(ix["column_names"]))
        for table in TABLES
        for ix in inspector.get_indexes(table)
    }
    assert {
        ("queries", ("batch_id",)),
        ("queries", ("created_at",)),
        ("model_calls", ("query_id",)),
        ("model_loads", ("batch_id",)),
        ("eval_runs", ("created_at",)),
    } <= indexed
    assert is_at_head(engine)
    assert migrate(engine) is False  # already at head: a no-op


def test_migrations_match_models(engine: Engine) -> None:
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_sqlite_connections_enforce_foreign_keys_after_migrate(sqlite_engine: Engine) -> None:
    migrate(sqlite_engine)  # env.py switches foreign keys off while migrating
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_alembic_command_line_upgrades_sqlite(tmp_path: Path) -> None:
    env = {**os.environ, "SYMOE_DATA_DIR": str(tmp_path / "home")}
    env.pop("SYMOE_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    engine = make_engine(f"sqlite:///{tmp_path / 'home' / 'symoe.db'}")
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
        assert is_at_head(engine)
        assert migrate(engine) is False
    finally:
        engine.dispose()


# -- traces -------------------------------------------------------------------------------


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


# -- profile sets -------------------------------------------------------------------------


def profile(name: str, score: int = 2) -> ProfileSet:
    return ProfileSet(
        name=name,
        created_at="2026-01-02T03:04:05+00:00",  # fixed, so two builds compare equal
        benchmark="mmlu_pro",
        split="validation",
        tagger="embedding",
        command="symoe profile build",
        questions=10,
        experts={"smol": {"calculus": SkillScore(score=score, count=4)}},
        accuracy={"smol": 0.625},
        aggregators={"math": "gemma"},
        aggregator_scores={"math": {"gemma": 0.5}},
    )


def test_profile_set_versions_and_activation(store: TraceStore) -> None:
    assert store.active_profile_set() is None
    v1 = store.save_profile_set(profile("local", 1), activate=True)
    v2 = store.save_profile_set(profile("local", 2), activate=False)
    other = store.save_profile_set(profile("other"), activate=False)
    assert (v1.version, v2.version, other.version) == (1, 2, 1)
    assert store.active_profile_set() == v1  # saving v2 without activate keeps v1 active
    assert store.get_profile_set("local") == v2
    assert store.get_profile_set("local", 1) == v1 == profile("local", 1)

    store.save_profile_set(profile("other"), activate=True)
    assert store.active_profile_set() == store.get_profile_set("other", 2)
    assert store.activate_profile_set("local", 2) == v2
    assert store.active_profile_set() == v2
    listing = store.list_profile_sets()
    assert all(p.stored_at.tzinfo is not None for p in listing)
    assert [(p.name, p.version, p.active) for p in listing] == [
        ("local", 1, False),
        ("local", 2, True),
        ("other", 1, False),
        ("other", 2, False),
    ]
    with pytest.raises(InputError, match="missing@v3"):
        store.activate_profile_set("missing", 3)


# -- experts ------------------------------------------------------------------------------


def expert(name: str, model: str = "m", enabled: bool = True) -> Expert:
    return Expert(name=name, backend="scripted", model=model, enabled=enabled,
                  roles=["expert", "aggregator"], options={"answers": ["A"]})  # fmt: skip


def test_sync_experts(store: TraceStore) -> None:
    store.sync_experts([expert("a"), expert("b", enabled=False)])
    assert store.list_experts() == [expert("a"), expert("b", enabled=False)]

    store.set_expert_enabled("a", False)  # as the dashboard would
    store.sync_experts([expert("a", model="m2", enabled=True), expert("c")])
    # YAML wins on the config, the database on `enabled`; b, gone from the YAML, stays.
    assert store.list_experts() == [
        expert("a", model="m2", enabled=False),
        expert("b", enabled=False),
        expert("c"),
    ]
    with pytest.raises(UnknownExpertError):
        store.set_expert_enabled("zzz", True)


def test_sync_leaves_unchanged_experts_untouched(store: TraceStore, engine: Engine) -> None:
    store.sync_experts([expert("a")])
    with engine.connect() as conn:
        stamp = conn.scalar(select(ExpertRow.updated_at))
    store.sync_experts([expert("a")])
    with engine.connect() as conn:
        assert conn.scalar(select(ExpertRow.updated_at)) == stamp
        assert conn.scalar(select(func.count()).select_from(ExpertRow)) == 1


def test_a_model_answer_with_nul_is_stored_with_a_replacement(
    store: TraceStore, make_pipeline: PipelineFactory
) -> None:
    """A model's NUL must not lose the batch: the completion carries U+FFFD in its place."""
    pipeline, _ = make_pipeline([scripted_expert("a", default="The answer is (B).\x00 done")])
    question = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"
    report = pipeline.run([Query(text=question)], BatchOptions(k=1, aggregation="vote"))
    store.save_batch(report)
    loaded = store.get_trace(report.traces[0].query_id)
    assert loaded is not None
    assert loaded.answer == "The answer is (B).\ufffd done"
    assert loaded.extracted_answer == "B"
