"""Alembic environment: runs the migrations on a connection handed over by
orchestrator.db.engine.migrate (config.attributes["connection"]) or, from the `alembic`
command line, on an engine built from Settings.db_url."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from orchestrator.db.engine import make_engine
from orchestrator.db.models import Base
from orchestrator.settings import get_settings

config = context.config
target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite cannot ALTER most things, so batch mode rebuilds a table by copy and drop;
        # with foreign keys on, that drop would cascade into the referencing rows.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    # Command line: log as alembic.ini says (never when called from symoe, whose logging
    # is its own), and connect where the settings point.
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    url = config.get_main_option("sqlalchemy.url") or get_settings().db_url
    engine = make_engine(url)
    try:
        with engine.connect() as own:
            run_on(own)
            own.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
