"""Database fixtures: every store test runs on a fresh SQLite file and, marked `postgres`,
on a throwaway schema of the local PostgreSQL server (dropped afterwards)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from orchestrator.db import TraceStore, make_engine, migrate, session_factory
from tests.postgres_support import throwaway_schema


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
def store(engine: Engine) -> TraceStore:
    migrate(engine)
    return TraceStore(session_factory(engine))
