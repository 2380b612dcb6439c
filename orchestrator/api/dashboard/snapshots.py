"""Statistics that are costly to count (draws over thousands of stored queries) are counted at
most once per `ttl_s` per process and shared by every page request meanwhile; a page shows
when its snapshot was taken. One lock per snapshot, so concurrent requests wait for one count
instead of each starting its own."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class Snapshot(Generic[T]):
    value: T
    taken_at: datetime


@dataclass
class Snapshots(Generic[T]):
    ttl_s: float
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _kept: dict[object, tuple[float, Snapshot[T]]] = field(default_factory=dict)

    def get(self, key: object, count: Callable[[], T]) -> Snapshot[T]:
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and time.monotonic() - kept[0] < self.ttl_s:
                return kept[1]
            snapshot = Snapshot(count(), datetime.now(UTC))
            self._kept[key] = (time.monotonic(), snapshot)
            return snapshot

    def forget(self, key: object) -> None:
        with self._lock:
            self._kept.pop(key, None)
