"""The rate limit's Redis store (SYMOE_API_RATE_LIMIT_STORE=redis) on the real Redis: the
memory store's semantics, one budget for two limiters (as two API processes hold), a clear
error for a Redis that does not answer, and a request that goes ahead when Redis fails."""

from __future__ import annotations

import logging
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from orchestrator.api.auth.ratelimit import RATE_LIMIT_STORES, MemoryRateLimiter, RateLimiter
from orchestrator.api.auth.ratelimit_redis import RedisRateLimiter, shown_url
from orchestrator.api.process import free_port
from orchestrator.errors import ConfigError
from orchestrator.settings import Settings
from workers.process import wait_for

pytestmark = pytest.mark.redis

URL = "redis://127.0.0.1:6379/2"  # api_redis_url's default


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    mine = f"symoe-test:{secrets.token_hex(4)}:"
    yield mine
    client = redis.Redis.from_url(URL)
    for key in client.scan_iter(f"{mine}*"):
        client.delete(key)
    client.close()


def _limiter(per_minute: int, prefix: str) -> RedisRateLimiter:
    return RedisRateLimiter(per_minute, URL, prefix=prefix)


def test_it_allows_per_minute_then_refuses_with_the_wait(prefix: str) -> None:
    limiter = _limiter(3, prefix)
    assert [limiter.check("k") for _ in range(3)] == [None, None, None]
    wait = limiter.check("k")
    assert wait is not None and 0 < wait <= 20  # one token per 20 s at 3 per minute
    assert wait == round(wait, 1)  # rounded up to 0.1 s, as the memory store does
    assert limiter.check("other") is None  # per key
    assert limiter.used("k") == pytest.approx(3, abs=0.01)
    assert limiter.used("unseen") == 0


def test_it_agrees_with_the_memory_store(prefix: str) -> None:
    shared, memory = _limiter(2, prefix), MemoryRateLimiter(2)
    for _ in range(3):
        assert (shared.check("k") is None) == (memory.check("k") is None)
    wait_shared, wait_memory = shared.check("k"), memory.check("k")
    assert wait_shared is not None and wait_memory is not None
    assert wait_shared == pytest.approx(wait_memory, abs=0.2)  # 30 s, less the time passed


def test_the_bucket_refills(prefix: str) -> None:
    limiter = _limiter(600, prefix)  # ten tokens a second
    while limiter.check("k") is None:
        pass
    wait = limiter.check("k")
    assert wait is not None and wait <= 0.1
    time.sleep(0.25)
    assert limiter.check("k") is None
    assert limiter.used("k") < 600


def test_two_limiters_share_one_budget(prefix: str) -> None:
    first, second = _limiter(4, prefix), _limiter(4, prefix)  # as two API processes hold them
    answers = [(first if i % 2 else second).check("k") for i in range(6)]
    assert answers[:4] == [None] * 4
    assert all(a is not None and a > 0 for a in answers[4:])
    assert first.used("k") == pytest.approx(second.used("k"), abs=0.01)
    assert first.used("k") == pytest.approx(4, abs=0.01)


def test_zero_is_off(prefix: str) -> None:
    limiter = _limiter(0, prefix)
    assert all(limiter.check("k") is None for _ in range(100))
    assert limiter.used("k") == 0


def test_the_bucket_expires_once_it_would_be_full(prefix: str) -> None:
    limiter = _limiter(60, prefix)
    limiter.check("k")
    ttl_ms = redis.Redis.from_url(URL).pttl(f"{prefix}k")
    assert 0 < ttl_ms <= 60_000


def test_settings_pick_the_store_by_name() -> None:
    assert RATE_LIMIT_STORES.names() == ["memory", "redis"]
    settings = Settings(api_rate_limit_store="redis", api_redis_url=URL)
    limiter = RateLimiter.from_settings(settings)
    assert isinstance(limiter, RedisRateLimiter) and limiter.per_minute == 600
    limiter.close()
    with pytest.raises(ConfigError, match="unknown rate limit store 'nope'"):
        RateLimiter.from_settings(Settings(api_rate_limit_store="nope"))


def test_the_memory_store_divides_the_budget_among_processes() -> None:
    settings = Settings(api_rate_limit_per_minute=5, api_workers=2)
    limiter = RateLimiter.from_settings(settings)
    assert isinstance(limiter, MemoryRateLimiter) and limiter.per_minute == 3  # rounded up
    assert (
        RateLimiter.from_settings(Settings(api_rate_limit_per_minute=0, api_workers=4)).per_minute
        == 0
    )


def test_a_redis_that_does_not_answer_is_a_config_error_naming_the_url() -> None:
    with pytest.raises(ConfigError, match=r"Redis at redis://:\*\*\*@127\.0\.0\.1:1/0"):
        RedisRateLimiter(5, "redis://:hunter2@127.0.0.1:1/0")
    assert shown_url("redis://u:p@h:1/2") == "redis://u:***@h:1/2"


@dataclass
class OwnRedis:
    port: int
    process: subprocess.Popen[bytes]


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A Redis server of this test's own on a free port, to stop mid-test."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    wait_for(lambda: _answers(client), "the test's Redis to start", timeout_s=30)
    client.close()
    yield OwnRedis(port, process)
    process.kill()
    process.wait()


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_a_redis_that_goes_away_lets_requests_through_with_one_warning(
    own_redis: OwnRedis, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = RedisRateLimiter(1, f"redis://127.0.0.1:{own_redis.port}/0")
    assert limiter.check("k") is None
    assert limiter.check("k") is not None
    own_redis.process.terminate()
    own_redis.process.wait()
    with caplog.at_level(logging.WARNING, logger="orchestrator.api.auth.ratelimit_redis"):
        assert [limiter.check("k") for _ in range(3)] == [None] * 3  # fails open
        assert limiter.used("k") == 0
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "requests go ahead" in warnings[0]
