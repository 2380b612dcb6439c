"""Per-key rate limit: a token bucket per key, refilled continuously (in process memory;
each API process limits on its own)."""

from __future__ import annotations

import math
import threading
import time


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._lock = threading.Lock()

    def used(self, key: str) -> float:
        """About how many requests of the key's minute budget are spent now (0 when off)."""
        if self.per_minute <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.per_minute), now))
        refilled = min(float(self.per_minute), tokens + (now - last) * self.per_minute / 60.0)
        return self.per_minute - refilled

    def check(self, key: str) -> float | None:
        """None if the request may go ahead, else the seconds until it may (retry-after)."""
        if self.per_minute <= 0:
            return None
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return math.ceil((1.0 - tokens) / rate * 10) / 10
            self._buckets[key] = (tokens - 1.0, now)
            return None
