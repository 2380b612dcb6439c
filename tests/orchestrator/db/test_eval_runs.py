"""EvalRunStore, on SQLite and (marked postgres) on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text

from orchestrator.db import EvalRunStore, Stores
from orchestrator.errors import InputError

CONFIG: dict[str, Any] = {
    "benchmark": "mmlu_pro",
    "split": "test",
    "methods": ["single", "symbolic", "oracle"],
    "seeds": [0, 1],
    "limit": 50,
    "k": 3,
    "experts_file": "experts.yaml",
    "profile": None,
    "options": {"nested": {"ünïcode": "✓"}},
}
METRICS: dict[str, Any] = {
    "config": CONFIG,
    "items": 50,
    "seconds": 12.5,
    "methods": {"single": {"accuracy_mean": 0.5, "accuracy_per_seed": {"0": 0.5, "1": 0.5}}},
}


@pytest.fixture
def store(stores: Stores) -> EvalRunStore:
    return stores.eval_runs


def test_start_finish_and_read_back(store: EvalRunStore) -> None:
    assert store.get_eval_run("r1") is None
    store.start_eval_run("r1", "mmlu_pro", "test", "/runs/r1", CONFIG)
    run = store.get_eval_run("r1")
    assert run is not None
    assert (run.id, run.benchmark, run.split, run.out_dir) == ("r1", "mmlu_pro", "test", "/runs/r1")
    assert (run.status, run.config, run.metrics) == ("running", CONFIG, None)
    assert run.created_at.tzinfo is not None

    store.finish_eval_run("r1", METRICS)
    done = store.get_eval_run("r1")
    assert done is not None
    assert (done.status, done.metrics) == ("done", METRICS)
    assert done.created_at == run.created_at


def test_start_is_idempotent_and_resets_a_finished_run(store: EvalRunStore, engine: Engine) -> None:
    store.start_eval_run("r1", "mmlu_pro", "test", "/runs/r1", CONFIG)
    store.finish_eval_run("r1", None, status="failed")
    failed = store.get_eval_run("r1")
    assert failed is not None and failed.status == "failed"

    again = {**CONFIG, "limit": 10}
    store.start_eval_run("r1", "mmlu_pro", "validation", "/runs/r1b", again)
    run = store.get_eval_run("r1")
    assert run is not None
    assert (run.status, run.split, run.out_dir, run.config) == (
        "running", "validation", "/runs/r1b", again
    )  # fmt: skip
    assert run.metrics is None
    assert run.created_at == failed.created_at
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM eval_runs")) == 1


def test_finish_refuses_unknown_runs_and_statuses(store: EvalRunStore) -> None:
    with pytest.raises(InputError, match="nope"):
        store.finish_eval_run("nope", METRICS)
    store.start_eval_run("r1", "mmlu_pro", "test", "/runs/r1", CONFIG)
    with pytest.raises(ValueError, match="running"):
        store.finish_eval_run("r1", METRICS, status="running")
    run = store.get_eval_run("r1")
    assert run is not None and (run.status, run.metrics) == ("running", None)


def test_list_newest_first_with_limit(store: EvalRunStore, engine: Engine) -> None:
    for i in range(3):
        store.start_eval_run(f"r{i}", "mmlu_pro", "test", f"/runs/r{i}", CONFIG)
    with engine.begin() as conn:  # distinct, known times: the three starts may share one tick
        for i in range(3):
            conn.execute(
                text("UPDATE eval_runs SET created_at = :t WHERE id = :id"),
                {"t": f"2026-01-0{i + 1} 00:00:00+00:00", "id": f"r{i}"},
            )
    store.finish_eval_run("r1", METRICS)
    assert [r.id for r in store.list_eval_runs(10)] == ["r2", "r1", "r0"]
    assert [r.id for r in store.list_eval_runs(2)] == ["r2", "r1"]
    listing = store.list_eval_runs()
    assert [r.status for r in listing] == ["running", "done", "running"]
    assert listing[1].metrics == METRICS
    assert all(r.created_at.tzinfo is not None for r in listing)
