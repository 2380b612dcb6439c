"""The model pool with scripted backends: counting, LRU eviction, reload on change."""

from __future__ import annotations

import pytest

from workers.pool import ModelPool
from workers.types import BackendError, ModelSpec


def spec(name: str, mb: int = 100, **options: object) -> ModelSpec:
    return ModelSpec(name=name, backend="scripted", model=name, memory_mb=mb, options=options)


def test_loads_once_and_evicts_least_recently_used() -> None:
    pool = ModelPool(memory_budget_mb=250)
    assert pool.acquire(spec("a"))[1] is True
    assert pool.acquire(spec("b"))[1] is True
    assert pool.acquire(spec("a"))[1] is False  # a is now the most recent
    pool.acquire(spec("c"))  # evicts b, the coldest
    assert pool.resident() == ["a", "c"]
    assert pool.stats.loads == 3 and pool.stats.evictions == 1 and pool.stats.unloads == 1
    assert pool.stats.resident_mb == 200
    pool.acquire(spec("b"))
    assert pool.stats.loads_by_model == {"a": 1, "b": 2, "c": 1}


def test_a_changed_spec_reloads_and_release_all_unloads() -> None:
    pool = ModelPool(memory_budget_mb=1000)
    pool.acquire(spec("a"))
    _backend, loaded = pool.acquire(spec("a", default="changed"))
    assert loaded and pool.stats.loads == 2
    pool.release_all()
    assert pool.resident() == [] and pool.stats.unloads == 2


def test_a_model_over_budget_still_loads_alone_and_failures_are_not_resident() -> None:
    pool = ModelPool(memory_budget_mb=50)
    pool.acquire(spec("a", mb=100))
    pool.acquire(spec("b", mb=100))
    assert pool.resident() == ["b"]
    with pytest.raises(BackendError, match="failed"):
        pool.acquire(spec("broken", fail_load=True))
    assert "broken" not in pool.resident()
