"""Engines, schema migration and sessions. Nothing here runs at import: callers build the
engine from Settings.db_url when they start, so tests and the CLI can point it anywhere."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

import migrations
from orchestrator.errors import InputError

# Arbitrary but fixed: the advisory lock id that serialises migrations on PostgreSQL.
_LOCK_KEY = 7_360_501


def make_engine(
    url: str | URL,
    *,
    pool_size: int = 5,
    max_overflow: int = 10,
    echo: bool = False,
    sqlite_synchronous: str = "NORMAL",
) -> Engine:
    """An engine for `url`, tuned for its backend.

    SQLite (the embedded default): the file's directory is created, `~` is expanded, foreign
    keys are enforced and the journal is WAL, so the API can read while a batch is written;
    `sqlite_synchronous` NORMAL (a commit survives a crashed process, and a power loss may
    undo the last ones) or FULL (one fsync per commit: it survives a power loss too).
    PostgreSQL: a bounded pool whose connections are checked before use, since a server
    restart otherwise surfaces as an error on the first query after it.
    Both: text with a NUL character is refused with InputError before it is sent (PostgreSQL
    cannot store it; SQLite could, and then the same data would fail on PostgreSQL).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        parsed = _prepare_sqlite_path(parsed)
        engine = create_engine(parsed, echo=echo)
        if sqlite_synchronous not in ("NORMAL", "FULL"):
            raise InputError(f"sqlite_synchronous: NORMAL or FULL, not {sqlite_synchronous!r}")
        event.listen(engine, "connect", partial(_sqlite_on_connect, sqlite_synchronous))
    else:
        options: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
        if parsed.get_backend_name() == "postgresql":
            options.update(pool_size=pool_size, max_overflow=max_overflow)
        engine = create_engine(parsed, **options)
    event.listen(engine, "before_cursor_execute", _refuse_nul_text)
    return engine


def _refuse_nul_text(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, context: Any, _many: bool
) -> None:
    """The last line of defence behind the API's input guard and the loaders' checks: a clear
    InputError naming the column instead of the driver's ValueError (a 500 in the API)."""
    if not _has_nul_text(parameters):  # the common case, in one flat pass over the values
        return
    for name, value in _named_values(parameters, context):
        if isinstance(value, str) and "\x00" in value:
            words = statement.split(None, 3)
            table = {"INSERT": words[2:3], "UPDATE": words[1:2]}.get(words[0], [])
            where = ".".join([*table, str(name)])
            raise InputError(
                f"cannot store text with a NUL character (\\x00) in {where}: {value[:60]!r}"
            )


def _has_nul_text(parameters: Any) -> bool:
    """Whether a bound value is text with a NUL: the values `_named_values` names, without
    naming them (the check runs on every statement; names matter only for the error)."""
    if isinstance(parameters, dict):
        parameters = parameters.values()
    elif parameters and isinstance(parameters[0], (dict, list, tuple)):  # many rows
        return any(_has_nul_text(row) for row in parameters)
    return any(isinstance(value, str) and "\x00" in value for value in parameters or ())


def _named_values(parameters: Any, context: Any) -> Iterator[tuple[object, object]]:
    """(name, value) of each bound value: one row or many, by name (PostgreSQL) or by
    position (SQLite, named from the compiled statement when the row matches it)."""
    if isinstance(parameters, dict):
        yield from parameters.items()
    elif parameters and isinstance(parameters[0], (dict, list, tuple)):  # many rows
        for row in parameters:
            yield from _named_values(row, context)
    elif parameters:
        names = getattr(getattr(context, "compiled", None), "positiontup", None) or []
        if len(names) != len(parameters):  # several rows in one INSERT: by position
            names = [f"parameter {i}" for i in range(len(parameters))]
        yield from zip(names, parameters, strict=True)


def _prepare_sqlite_path(url: URL) -> URL:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return url
    path = Path(database).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return url.set(database=str(path))


def _sqlite_on_connect(synchronous: str, dbapi_connection: Any, _record: Any) -> None:
    # SQLite leaves foreign keys off per connection unless asked, and its default rollback
    # journal blocks readers during a write.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")  # one of two checked names
    finally:
        cursor.close()


def alembic_config() -> Config:
    """The Alembic config for the installed `migrations` package, independent of the cwd and
    of alembic.ini (which only serves the `alembic` command line)."""
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return config


def is_at_head(engine: Engine) -> bool:
    """True when the database already carries every migration: one small query."""
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current == heads


def migrate(engine: Engine) -> bool:
    """Bring the schema to the newest migration; returns whether an upgrade was attempted.

    The check first keeps a normal start-up to one query. The upgrade runs on a connection of
    `engine` (handed to migrations/env.py), so it honours the engine's settings, such as a
    PostgreSQL search_path.
    """
    if is_at_head(engine):
        return False
    config = alembic_config()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # An API and a worker starting together must not both run the same migration:
            # the second waits here, then finds the schema at head and Alembic does nothing.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
        if connection.dialect.name == "sqlite":
            # env.py turns foreign keys off for SQLite batch migrations; this connection goes
            # back to the pool, so turn them on again (outside a transaction, or it is a no-op).
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
    return True


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: a row read inside a transaction stays readable after commit,
    # instead of silently costing one more query per attribute.
    return sessionmaker(bind=engine, expire_on_commit=False)
