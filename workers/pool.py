"""The model pool: load a model the first time work needs it, keep hot models resident
within a memory budget, evict the least recently used, and count every load and unload."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from pydantic import BaseModel, Field

from workers.backends import LLMBackend, create_backend
from workers.types import ModelSpec

log = logging.getLogger(__name__)


class PoolStats(BaseModel):
    loads: int = 0
    unloads: int = 0
    evictions: int = 0
    load_seconds: float = 0.0
    loads_by_model: dict[str, int] = Field(default_factory=dict)
    resident: list[str] = Field(default_factory=list)
    resident_mb: int = 0


class ModelPool:
    """LRU cache of loaded backends keyed by expert name.

    A model larger than the whole budget is still loaded (alone): refusing it would make the
    expert unusable, and the budget is a residency target, not a hard cap.
    """

    def __init__(
        self,
        memory_budget_mb: int,
        factory: Callable[[ModelSpec], LLMBackend] = create_backend,
    ) -> None:
        self.memory_budget_mb = memory_budget_mb
        self._factory = factory
        self._resident: OrderedDict[str, LLMBackend] = OrderedDict()
        self._lock = threading.RLock()
        self.stats = PoolStats()

    def acquire(self, spec: ModelSpec) -> tuple[LLMBackend, bool]:
        """The loaded backend for `spec` and whether this call had to load it."""
        with self._lock:
            backend = self._resident.get(spec.name)
            if backend is not None and backend.spec == spec:
                self._resident.move_to_end(spec.name)
                return backend, False
            if backend is not None:  # spec changed (edited expert): reload
                self._unload(spec.name)
            self._make_room(spec.memory_mb)
            backend = self._factory(spec)
            started = time.perf_counter()
            backend.load()
            elapsed = time.perf_counter() - started
            self._resident[spec.name] = backend
            self.stats.loads += 1
            self.stats.load_seconds += elapsed
            self.stats.loads_by_model[spec.name] = self.stats.loads_by_model.get(spec.name, 0) + 1
            self._refresh()
            log.info("loaded %s in %.2fs", spec.name, elapsed)
            return backend, True

    def release_all(self) -> None:
        with self._lock:
            for name in list(self._resident):
                self._unload(name)

    def resident(self) -> list[str]:
        with self._lock:
            return list(self._resident)

    def _make_room(self, needed_mb: int) -> None:
        while self._resident and self._resident_mb() + needed_mb > self.memory_budget_mb:
            coldest = next(iter(self._resident))
            log.info("evicting %s to make room for %d MB", coldest, needed_mb)
            self._unload(coldest)
            self.stats.evictions += 1

    def _unload(self, name: str) -> None:
        backend = self._resident.pop(name)
        backend.unload()
        self.stats.unloads += 1
        self._refresh()

    def _resident_mb(self) -> int:
        return sum(b.spec.memory_mb for b in self._resident.values())

    def _refresh(self) -> None:
        self.stats.resident = list(self._resident)
        self.stats.resident_mb = self._resident_mb()
