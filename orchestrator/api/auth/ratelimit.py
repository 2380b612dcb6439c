"""Per-key rate limit: a token bucket per key of `per_minute` tokens, refilled continuously.

Where the buckets live is a store picked by name (SYMOE_API_RATE_LIMIT_STORE, a name in
`RATE_LIMIT_STORES`): `memory` keeps them in the process (with several API processes each
allows its share of the budget, so the limit is approximate), `redis` keeps them in Redis
(one budget for every process; `ratelimit_redis`)."""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from orchestrator.errors import ConfigError
from workers.registry import Registry

if TYPE_CHECKING:
    from orchestrator.settings import Settings


def retry_after(tokens: float, per_minute: int) -> float | None:
    """None with a whole token left, else the seconds until there is one, rounded up to
    0.1 s (the wait every store reports)."""
    if tokens >= 1.0:
        return None
    return math.ceil((1.0 - tokens) / (per_minute / 60.0) * 10) / 10


class RateLimiter(ABC):
    """What the API asks of a store: take a request's token, and how much is spent."""

    per_minute: int  # the bucket's size and refill per minute; 0 = off

    @abstractmethod
    def check(self, key: str) -> float | None:
        """None if the request may go ahead (a token is taken), else the seconds until it
        may (retry-after)."""

    @abstractmethod
    def used(self, key: str) -> float:
        """About how many requests of the key's minute budget are spent now (0 when off)."""

    def close(self) -> None:  # noqa: B027 - a store without connections has nothing to do
        """Release the store's connections."""

    @staticmethod
    def from_settings(settings: Settings) -> RateLimiter:
        """The configured store (an unknown name, or a Redis that does not answer, is a
        ConfigError)."""
        return RATE_LIMIT_STORES.create(settings.api_rate_limit_store, settings)


class MemoryRateLimiter(RateLimiter):
    """Buckets in this process's memory: each API process limits on its own."""

    name = "memory"

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> MemoryRateLimiter:
        """With N API processes each allows per_minute / N (rounded up)."""
        return cls(math.ceil(settings.api_rate_limit_per_minute / settings.api_workers))

    def used(self, key: str) -> float:
        if self.per_minute <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.per_minute), now))
        refilled = min(float(self.per_minute), tokens + (now - last) * self.per_minute / 60.0)
        return self.per_minute - refilled

    def check(self, key: str) -> float | None:
        if self.per_minute <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * self.per_minute / 60.0)
            wait = retry_after(tokens, self.per_minute)
            self._buckets[key] = (tokens if wait is not None else tokens - 1.0, now)
            return wait


# name (SYMOE_API_RATE_LIMIT_STORE) -> factory taking the API's Settings; redis is imported
# only when picked (redis-py comes with the `distributed` extra)
RATE_LIMIT_STORES: Registry[RateLimiter] = Registry(
    "rate limit store",
    {
        MemoryRateLimiter.name: MemoryRateLimiter.from_settings,
        "redis": "orchestrator.api.auth.ratelimit_redis:redis_rate_limiter",
    },
    error=ConfigError,
)
