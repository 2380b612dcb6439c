"""The model pool: load a model the first time work needs it, keep hot models resident
within a memory budget, evict the least recently used, and count every load and unload."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future

from pydantic import BaseModel, Field

from workers.backends import LLMBackend, create_backend
from workers.settings import WorkerSettings
from workers.types import ModelSpec

log = logging.getLogger(__name__)


class PoolStats(BaseModel):
    loads: int = 0
    unloads: int = 0
    evictions: int = 0
    prefetches: int = 0  # loads started ahead of need, overlapping other work
    load_seconds: float = 0.0
    loads_by_model: dict[str, int] = Field(default_factory=dict)
    resident: list[str] = Field(default_factory=list)
    resident_mb: int = 0
    # worker tasks (workers/group_merge.py): execute_group calls, runs that served several
    # tasks, and tasks that ran inside another task's call (tasks = group_runs + merged_tasks)
    group_runs: int = 0
    merged_runs: int = 0
    merged_tasks: int = 0


class ModelPool:
    """LRU cache of loaded backends keyed by expert name.

    A model larger than the whole budget is still loaded (alone): refusing it would make the
    expert unusable, and the budget is a residency target, not a hard cap. Loading happens
    outside the pool's lock, so `prefetch` can load the next model in a background thread
    while the current one generates. Backends find their files where `settings` say: the
    orchestrator's paths in process, the worker's own environment in a Celery worker.
    """

    def __init__(
        self,
        memory_budget_mb: int,
        settings: WorkerSettings | None = None,
        factory: Callable[[ModelSpec], LLMBackend] | None = None,
    ) -> None:
        self.memory_budget_mb = memory_budget_mb
        self.settings = settings if settings is not None else WorkerSettings()
        self._factory = factory or self._create
        self._resident: OrderedDict[str, LLMBackend] = OrderedDict()
        self._loading: dict[str, tuple[ModelSpec, Future[LLMBackend]]] = {}
        self._unclaimed: set[str] = set()  # prefetched, not yet used by a group
        self._lock = threading.RLock()
        self.stats = PoolStats()

    def _create(self, spec: ModelSpec) -> LLMBackend:
        return create_backend(spec, self.settings)

    def acquire(self, spec: ModelSpec) -> tuple[LLMBackend, bool]:
        """The loaded backend for `spec` and whether it had to be loaded for this call (a
        prefetched model counts as loaded for the first group that uses it)."""
        with self._lock:
            backend = self._resident.get(spec.name)
            if backend is not None and backend.spec == spec:
                self._resident.move_to_end(spec.name)
                claimed = spec.name in self._unclaimed
                self._unclaimed.discard(spec.name)
                return backend, claimed
            pending = self._loading.get(spec.name)
            if pending is not None and pending[0] == spec:
                future, owner = pending[1], False  # a prefetch is loading it: wait for that
            else:
                future, owner = self._reserve(spec), True
        if owner:
            self._load(spec, future)  # outside the lock: other models stay usable meanwhile
        backend = future.result()  # raises the load's BackendError
        with self._lock:
            self._unclaimed.discard(spec.name)
        return backend, True

    def prefetch(self, spec: ModelSpec) -> bool:
        """Start loading `spec` in the background if it is not resident and fits beside the
        resident models without evicting any (they may be in use). True if started."""
        with self._lock:
            if spec.name in self._resident or spec.name in self._loading:
                return False
            if self._committed_mb() + spec.memory_mb > self.memory_budget_mb:
                return False
            future = self._reserve(spec)
            self._unclaimed.add(spec.name)
            self.stats.prefetches += 1
        threading.Thread(target=self._load, args=(spec, future), daemon=True).start()
        return True

    def _reserve(self, spec: ModelSpec) -> Future[LLMBackend]:
        """Make room for `spec` and register its load; the caller holds the lock."""
        if spec.name in self._resident:  # spec changed (edited expert): reload
            self._unload(spec.name)
        self._make_room(spec.memory_mb)
        future: Future[LLMBackend] = Future()
        self._loading[spec.name] = (spec, future)
        return future

    def _load(self, spec: ModelSpec, future: Future[LLMBackend]) -> None:
        started = time.perf_counter()
        try:
            backend = self._factory(spec)
            backend.load()
        except BaseException as exc:
            with self._lock:
                self._forget_load(spec.name, future)
                self._unclaimed.discard(spec.name)
            future.set_exception(exc)
            return
        elapsed = time.perf_counter() - started
        with self._lock:
            self._forget_load(spec.name, future)
            self._resident[spec.name] = backend
            self.stats.loads += 1
            self.stats.load_seconds += elapsed
            self.stats.loads_by_model[spec.name] = self.stats.loads_by_model.get(spec.name, 0) + 1
            self._refresh()
        log.info("loaded %s in %.2fs", spec.name, elapsed)
        future.set_result(backend)

    def _forget_load(self, name: str, future: Future[LLMBackend]) -> None:
        if name in self._loading and self._loading[name][1] is future:
            del self._loading[name]

    def count_run(self, tasks: int) -> None:
        """One execute_group call served `tasks` worker tasks (GroupMerger's `on_run`)."""
        with self._lock:
            self.stats.group_runs += 1
            if tasks > 1:
                self.stats.merged_runs += 1
                self.stats.merged_tasks += tasks - 1

    def release_all(self) -> None:
        with self._lock:
            loading = [f for _, f in self._loading.values()]
        for future in loading:  # let background loads finish, then unload everything
            future.exception()
        with self._lock:
            for name in list(self._resident):
                self._unload(name)
            self._unclaimed.clear()

    def resident(self) -> list[str]:
        with self._lock:
            return list(self._resident)

    def _make_room(self, needed_mb: int) -> None:
        while self._resident and self._committed_mb() + needed_mb > self.memory_budget_mb:
            coldest = next(iter(self._resident))
            log.info("evicting %s to make room for %d MB", coldest, needed_mb)
            self._unload(coldest)
            self._unclaimed.discard(coldest)
            self.stats.evictions += 1

    def _unload(self, name: str) -> None:
        backend = self._resident.pop(name)
        backend.unload()
        self.stats.unloads += 1
        self._refresh()

    def _resident_mb(self) -> int:
        return sum(b.spec.memory_mb for b in self._resident.values())

    def _committed_mb(self) -> int:
        """Resident plus loading: what the budget must hold once loads finish."""
        return self._resident_mb() + sum(s.memory_mb for s, _ in self._loading.values())

    def _refresh(self) -> None:
        self.stats.resident = list(self._resident)
        self.stats.resident_mb = self._resident_mb()
