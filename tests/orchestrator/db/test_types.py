"""UTCDateTime: whatever the backend hands back, a stored time reads as aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.db import Stores, migrate, session_factory
from orchestrator.db.models import EvalRunRow
from orchestrator.db.types import as_utc

PARIS_SUMMER = timezone(timedelta(hours=2))


def test_as_utc_marks_naive_values_and_converts_aware_ones() -> None:
    assert as_utc(datetime(2026, 7, 1, 12, 0)) == datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    converted = as_utc(datetime(2026, 7, 1, 14, 0, tzinfo=PARIS_SUMMER))
    assert converted.tzinfo is UTC and converted.hour == 12


def test_a_naive_value_in_sqlite_reads_as_aware_utc(sqlite_engine: Engine) -> None:
    """What SQLite keeps (text without an offset, as older rows were written) comes back in
    UTC, not naive: the fix each store used to make for itself."""
    stores = Stores(_migrated(sqlite_engine))
    stores.eval_runs.start_eval_run("r1", "gsm8k", "test", "out", {})
    with sqlite_engine.begin() as conn:
        conn.execute(text("UPDATE eval_runs SET created_at = '2026-07-01 12:00:00.000000'"))
        assert conn.scalar(text("SELECT created_at FROM eval_runs")) == "2026-07-01 12:00:00.000000"
    run = stores.eval_runs.get_eval_run("r1")
    assert run is not None
    assert run.created_at == datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert run.created_at.tzinfo is UTC


def test_sqlite_stores_another_offset_as_utc(sqlite_engine: Engine) -> None:
    """SQLite drops the offset: a time in another zone is written as its UTC text, so it reads
    back as the same instant and compares correctly with the other rows."""
    sessions = _migrated(sqlite_engine)
    with sessions.begin() as session:
        session.add(_run("r1", datetime(2026, 7, 1, 14, 0, tzinfo=PARIS_SUMMER)))
    with sqlite_engine.connect() as conn:
        assert conn.scalar(text("SELECT created_at FROM eval_runs")) == "2026-07-01 12:00:00.000000"
    with sessions() as session:
        noon = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
        assert session.scalar(select(EvalRunRow.created_at)) == noon
        later = datetime(2026, 7, 1, 13, 30, tzinfo=PARIS_SUMMER)  # 11:30 UTC
        found = session.scalar(select(EvalRunRow.id).where(EvalRunRow.created_at > later))
        assert found == "r1"


def test_every_backend_round_trips_to_aware_utc(engine: Engine) -> None:
    """On PostgreSQL (TIMESTAMP WITH TIME ZONE, read back in the session's zone) as on SQLite."""
    sessions = _migrated(engine)
    instant = datetime(2026, 7, 1, 14, 0, 0, 250_000, tzinfo=PARIS_SUMMER)
    with sessions.begin() as session:
        session.add(_run("r1", instant))
        session.add(_run("r2", datetime(2026, 7, 1, 12, 0)))  # naive: taken as UTC
    with sessions() as session:
        if engine.dialect.name == "postgresql":  # PostgreSQL answers in the session's zone
            session.execute(text("SET TIME ZONE 'Asia/Kolkata'"))
        rows = session.execute(select(EvalRunRow.id, EvalRunRow.created_at))
        stored = {run_id: created_at for run_id, created_at in rows}
    assert stored["r1"] == instant and stored["r1"].tzinfo is UTC
    assert stored["r1"].hour == 12 and stored["r1"].microsecond == 250_000
    assert stored["r2"] == datetime(2026, 7, 1, 12, 0, tzinfo=UTC) and stored["r2"].tzinfo is UTC


def _migrated(engine: Engine) -> sessionmaker[Session]:
    migrate(engine)
    return session_factory(engine)


def _run(run_id: str, created_at: datetime) -> EvalRunRow:
    return EvalRunRow(
        id=run_id,
        created_at=created_at,
        benchmark="gsm8k",
        split="test",
        out_dir="out",
        config={},
        status="running",
    )
