"""A throwaway schema on the local PostgreSQL server for the tests that need PostgreSQL
(the store tests, the API on PostgreSQL); the test skips when the server is unreachable."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

# Trust auth on the CI machine; SYMOE_TEST_POSTGRES_URL points the tests elsewhere.
POSTGRES_URL = os.environ.get(
    "SYMOE_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)


@contextmanager
def throwaway_schema() -> Iterator[URL]:
    """The URL of a fresh, empty schema, dropped with everything in it afterwards."""
    admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    schema = f"symoe_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        reason = " ".join(str(exc.orig).split())
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {reason}")
    try:
        # search_path puts every table, alembic_version included, into the throwaway schema.
        yield make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
