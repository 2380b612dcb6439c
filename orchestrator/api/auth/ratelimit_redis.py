"""The rate limit's buckets in Redis (SYMOE_API_RATE_LIMIT_STORE=redis): one budget per key
for every API process, at SYMOE_API_REDIS_URL.

Each check is one atomic Lua script (EVALSHA): refill by the time elapsed on Redis's clock
(one clock for every process), then take a token if there is a whole one. A bucket left
alone for a minute is full again, so Redis drops it then (PEXPIRE).

A Redis that does not answer at start-up is a ConfigError naming the URL. During a request
the limit fails open: the request goes ahead with a logged warning (the key was already
checked in the database, so only the rate limit is off), and Redis is left alone for
`PAUSE_AFTER_FAILURE_S` so a Redis that hangs does not slow every request by its timeout."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from orchestrator.api.auth.ratelimit import RateLimiter, retry_after
from orchestrator.errors import ConfigError

if TYPE_CHECKING:
    from orchestrator.settings import Settings

log = logging.getLogger(__name__)

PREFIX = "symoe:ratelimit:"
TIMEOUT_S = 0.5  # per Redis call; a local Redis answers in well under a millisecond
PAUSE_AFTER_FAILURE_S = 5.0

# KEYS[1]: the bucket, a hash {tokens, at}. ARGV[1]: per_minute; ARGV[2]: "1" takes a token
# when there is a whole one, "0" only looks. Returns the tokens after the refill and before
# the take, as a string (a Lua number would come back as an integer).
_BUCKET = """
local size = tonumber(ARGV[1])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or size
local at = tonumber(state[2]) or now
tokens = math.min(size, tokens + math.max(0, now - at) * size / 60)
if ARGV[2] == '1' then
  local left = tokens
  if tokens >= 1 then left = tokens - 1 end
  redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', left),
             'at', string.format('%.17g', now))
  redis.call('PEXPIRE', KEYS[1], 60000)
end
return string.format('%.17g', tokens)
"""


def shown_url(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))


class RedisRateLimiter(RateLimiter):
    name = "redis"

    def __init__(self, per_minute: int, url: str, *, prefix: str = PREFIX) -> None:
        """Connects and pings Redis: a ConfigError naming the URL when it does not answer."""
        try:
            import redis
        except ImportError:
            raise ConfigError(
                "api_rate_limit_store=redis needs redis-py: pip install 'symoe[distributed]'"
            ) from None
        self.per_minute = per_minute
        self.url = url
        self.prefix = prefix
        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)
        try:
            self._redis = redis.Redis.from_url(
                url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
            )
            self._redis.ping()
        except (redis.RedisError, ValueError) as exc:
            raise ConfigError(
                f"the rate limit store cannot reach Redis at {shown_url(url)} "
                f"(SYMOE_API_REDIS_URL): {exc}"
            ) from None
        self._bucket = self._redis.register_script(_BUCKET)
        self._lock = threading.Lock()
        self._paused_until = 0.0  # after a failure: fail open without asking Redis

    def check(self, key: str) -> float | None:
        """As RateLimiter.check; None (go ahead) when Redis fails."""
        if self.per_minute <= 0:
            return None
        tokens = self._tokens(key, take=True)
        return None if tokens is None else retry_after(tokens, self.per_minute)

    def used(self, key: str) -> float:
        """As RateLimiter.used; 0 when Redis fails."""
        if self.per_minute <= 0:
            return 0.0
        tokens = self._tokens(key, take=False)
        return 0.0 if tokens is None else self.per_minute - tokens

    def close(self) -> None:
        self._redis.close()

    def _tokens(self, key: str, *, take: bool) -> float | None:
        """The key's tokens before this take, or None when Redis is failing."""
        if time.monotonic() < self._paused_until:
            return None
        try:
            raw = self._bucket(keys=[self.prefix + key], args=[self.per_minute, int(take)])
            return float(raw)
        except self._errors as exc:
            with self._lock:
                if time.monotonic() >= self._paused_until:  # one warning per pause
                    log.warning(
                        "rate limit off for %.0fs: Redis at %s failed (%s); requests go ahead",
                        PAUSE_AFTER_FAILURE_S,
                        shown_url(self.url),
                        exc,
                    )
                    self._paused_until = time.monotonic() + PAUSE_AFTER_FAILURE_S
            return None


def redis_rate_limiter(settings: Settings) -> RedisRateLimiter:
    """The store `RATE_LIMIT_STORES["redis"]` makes: the whole per_minute, for every process."""
    return RedisRateLimiter(settings.api_rate_limit_per_minute, settings.api_redis_url)
