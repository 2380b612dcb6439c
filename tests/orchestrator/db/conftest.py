"""Database fixtures: every store test runs on a fresh SQLite file and, marked `postgres`,
on a throwaway schema of the local PostgreSQL server (dropped afterwards)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from orchestrator.db import TraceStore, make_engine, migrate, session_factory

# Trust auth on the CI machine; SYMOE_TEST_POSTGRES_URL points the tests elsewhere.
POSTGRES_URL = os.environ.get(
    "SYMOE_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    # A directory that does not exist yet: make_engine must create it.
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'symoe.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    schema = f"symoe_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        reason = " ".join(str(exc.orig).split())
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {reason}")
    # search_path puts every table, alembic_version included, into the throwaway schema.
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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
