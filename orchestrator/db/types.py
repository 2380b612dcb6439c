"""UTCDateTime: the one column type for points in time, aware and in UTC both ways."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def as_utc(value: datetime) -> datetime:
    """`value` in UTC; a naive value is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """DateTime(timezone=True) underneath, as every migration declares it (TIMESTAMP WITH TIME
    ZONE on PostgreSQL, text on SQLite), so the schema is unchanged.

    SQLite keeps no offset: a value is converted to UTC before it is written, so its text
    means UTC, and the naive value SQLite hands back is marked UTC. PostgreSQL hands back the
    session's time zone; that is converted to UTC as well. A naive value handed in (a row
    field or a bound parameter of a comparison) is taken to be UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)
