"""KeyStore, on SQLite and (marked postgres) on PostgreSQL."""

from __future__ import annotations

from datetime import UTC

import pytest

from orchestrator.db import KeyStore, Stores
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
