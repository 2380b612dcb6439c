"""KeyStore, on SQLite and (marked postgres) on PostgreSQL."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import Engine, text

from orchestrator.db import KeyStore, Stores, migrate, session_factory
from orchestrator.errors import InputError


@pytest.fixture
def store(stores: Stores) -> KeyStore:
    return stores.keys


def test_create_verify_list_and_revoke(store: KeyStore) -> None:
    created = store.create(" ci ", "user")
    assert created.key.startswith(f"sk-symoe-{created.id}-") and created.name == "ci"
    info = store.verify(created.key)
    assert info is not None and (info.id, info.role) == (created.id, "user")
    assert info.created_at == created.created_at and info.created_at.tzinfo is UTC
    assert store.verify(created.key + "x") is None
    assert [k.id for k in store.list()] == [created.id]

    revoked = store.revoke(created.id)
    assert revoked.revoked_at is not None and revoked.revoked_at.tzinfo is UTC
    assert store.verify(created.key) is None
    assert store.revoke(created.id).revoked_at == revoked.revoked_at  # revoking again: as was
    with pytest.raises(LookupError):
        store.revoke("nope")


def test_roles_and_names_are_checked(store: KeyStore) -> None:
    with pytest.raises(InputError, match="unknown role"):
        store.create("x", "root")
    with pytest.raises(InputError, match="name"):
        store.create("  ", "admin")
    assert store.list() == []


def test_a_key_revoked_by_another_process_is_refused_at_once(stores: Stores) -> None:
    created = stores.keys.create("ci", "user")
    assert stores.keys.verify(created.key) is not None  # its info is now kept
    elsewhere = KeyStore(stores.sessions)  # another API process's store
    elsewhere.revoke(created.id)
    assert stores.keys.verify(created.key) is None


@pytest.mark.postgres
def test_a_dropped_verification_connection_is_opened_again(postgres_engine: Engine) -> None:
    """A database restart ends the verification connection; the next check opens another."""
    migrate(postgres_engine)
    store = KeyStore(session_factory(postgres_engine))
    created = store.create("ci", "user")
    assert store.verify(created.key) is not None
    # the store's own verification connection (another test's could match any public trait)
    pid = store._connection.connection.dbapi_connection.get_backend_pid()  # type: ignore[union-attr]
    with postgres_engine.connect() as conn:
        ended = conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    assert ended is True
    info = store.verify(created.key)
    assert info is not None and info.id == created.id
    store.close()
