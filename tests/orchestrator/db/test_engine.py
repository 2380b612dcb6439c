"""Migrations and engines, on SQLite and (marked postgres) on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from orchestrator.db import (
    make_engine,
    migrate,
    retrieval_models,  # noqa: F401 - registers its tables on Base
)
from orchestrator.db.engine import alembic_config, is_at_head
from orchestrator.db.models import Base
from tests.orchestrator.db.conftest import TABLES

REPO = Path(__file__).resolve().parents[3]


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


def test_migration_0002_downgrades_to_0001(engine: Engine) -> None:
    migrate(engine)
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
        connection.commit()
    tables = set(inspect(engine).get_table_names())
    assert "eval_runs" not in tables
    assert "batches" in tables
    assert migrate(engine) is True  # and back up to head
    assert "eval_runs" in inspect(engine).get_table_names()
