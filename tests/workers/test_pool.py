"""The model pool with scripted backends: counting, LRU eviction, reload on change."""

from __future__ import annotations

import threading

import pytest

from workers.backends import LLMBackend
from workers.backends.scripted import ScriptedBackend
from workers.pool import ModelPool
from workers.types import BackendError, GenerationParams, ModelSpec, Prompt


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


class _GatedLoad(ScriptedBackend):
    """A load that waits until the test opens the gate (so it must run in the background)."""

    gate = threading.Event()

    def load(self) -> None:
        assert self.gate.wait(timeout=10), "the gate was never opened"
        super().load()


def test_prefetch_loads_the_next_model_in_the_background() -> None:
    def factory(s: ModelSpec) -> LLMBackend:
        return _GatedLoad(s) if s.name == "b" else ScriptedBackend(s)

    pool = ModelPool(memory_budget_mb=1000, factory=factory)
    backend, _ = pool.acquire(spec("a"))
    assert pool.prefetch(spec("b")) is True  # returns at once: b's load waits on the gate
    assert pool.prefetch(spec("b")) is False  # already loading
    assert pool.resident() == ["a"]
    backend.generate([Prompt.user("q")], GenerationParams())  # a works while b loads
    _GatedLoad.gate.set()
    _, loaded = pool.acquire(spec("b"))
    assert loaded is True  # reported as a load for the first group that uses it
    assert pool.acquire(spec("b"))[1] is False
    assert pool.stats.loads == 2 and pool.stats.prefetches == 1


def test_prefetch_never_evicts_and_a_failed_prefetch_fails_the_acquire() -> None:
    pool = ModelPool(memory_budget_mb=150)
    pool.acquire(spec("a"))
    assert pool.prefetch(spec("b")) is False  # would need to evict a, which may be in use
    assert pool.resident() == ["a"]
    roomy = ModelPool(memory_budget_mb=1000)
    assert roomy.prefetch(spec("broken", fail_load=True)) is True
    with pytest.raises(BackendError, match="failed"):
        roomy.acquire(spec("broken", fail_load=True))
    assert roomy.resident() == [] and roomy.stats.loads == 0
