"""Database fixtures: every store test runs on a fresh SQLite file and, marked `postgres`,
on a throwaway schema of the local PostgreSQL server (dropped afterwards)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from orchestrator.db import Stores, make_engine, migrate, session_factory
from tests.postgres_support import throwaway_schema

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
    "documents",
    "chunks",
    "gate_artifacts",
    "workflow_runs",
    "workflow_steps",
    "workflow_attempts",
}


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) or 0 for t in sorted(TABLES)}


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    # A directory that does not exist yet: make_engine must create it.
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'symoe.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    with throwaway_schema() as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """An empty, unmigrated database of each kind."""
    fixture = "sqlite_engine" if request.param == "sqlite" else "postgres_engine"
    result: Engine = request.getfixturevalue(fixture)
    return result


@pytest.fixture
def stores(engine: Engine) -> Iterator[Stores]:
    """Every store over one migrated database of each kind."""
    migrate(engine)
    stores = Stores(session_factory(engine))
    yield stores
    stores.keys.close()
