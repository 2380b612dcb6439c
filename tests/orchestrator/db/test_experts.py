"""ExpertStore, on SQLite and (marked postgres) on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from orchestrator.db import ExpertStore, Stores
from orchestrator.db.models import ExpertRow
from orchestrator.errors import UnknownExpertError
from orchestrator.experts import Expert


@pytest.fixture
def store(stores: Stores) -> ExpertStore:
    return stores.experts


def expert(name: str, model: str = "m", enabled: bool = True) -> Expert:
    return Expert(name=name, backend="scripted", model=model, enabled=enabled,
                  roles=["expert", "aggregator"], options={"answers": ["A"]})  # fmt: skip


def test_sync_experts(store: ExpertStore) -> None:
    store.sync_experts([expert("a"), expert("b", enabled=False)])
    assert store.list_experts() == [expert("a"), expert("b", enabled=False)]

    store.set_expert_enabled("a", False)  # as the dashboard would
    store.sync_experts([expert("a", model="m2", enabled=True), expert("c")])
    # YAML wins on the config, the database on `enabled`; b, gone from the YAML, stays.
    assert store.list_experts() == [
        expert("a", model="m2", enabled=False),
        expert("b", enabled=False),
        expert("c"),
    ]
    with pytest.raises(UnknownExpertError):
        store.set_expert_enabled("zzz", True)


def test_sync_leaves_unchanged_experts_untouched(store: ExpertStore, engine: Engine) -> None:
    store.sync_experts([expert("a")])
    with engine.connect() as conn:
        stamp = conn.scalar(select(ExpertRow.updated_at))
    store.sync_experts([expert("a")])
    with engine.connect() as conn:
        assert conn.scalar(select(ExpertRow.updated_at)) == stamp
        assert conn.scalar(select(func.count()).select_from(ExpertRow)) == 1
