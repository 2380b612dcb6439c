"""Real Redis and real `symoe worker` subprocesses for the distributed-serving tests.

The tests use Redis DBs 9 (broker) and 10 (results), flushed around every test, and skip
when no Redis server answers on 127.0.0.1:6379. Apps and workers run with the default
settings (visibility timeout, heartbeat) unless a test says otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

celery = pytest.importorskip("celery", reason="needs the `distributed` extra (celery[redis])")
redis = pytest.importorskip("redis")

from celery import Celery  # noqa: E402

from workers.celery_app import make_celery_app  # noqa: E402
from workers.process import REPO, running_worker, start_worker, stop, wait_ready  # noqa: E402

BROKER = "redis://127.0.0.1:6379/9"
BACKEND = "redis://127.0.0.1:6379/10"


def flush_redis() -> None:
    """Empty the test DBs, or skip the test when Redis is unreachable."""
    try:
        for db in (9, 10):
            redis.Redis(host="127.0.0.1", port=6379, db=db, socket_connect_timeout=1).flushdb()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis on 127.0.0.1:6379 is unreachable: {exc}")


def redis_keys(db: int, pattern: str = "*") -> list[bytes]:
    return list(redis.Redis(host="127.0.0.1", port=6379, db=db).keys(pattern))


def client_app(broker: str = BROKER) -> Celery:
    return make_celery_app(broker, BACKEND)


def scripted(name: str, **options: object) -> dict[str, object]:
    return {
        "name": name,
        "backend": "scripted",
        "model": f"scripted/{name}",
        "roles": ["expert", "aggregator"],
        "options": {"default": f"{name} thinks. The answer is (A).", **options},
    }


def worker_env(tmp_path: Path, experts: list[dict[str, object]]) -> dict[str, str]:
    experts_file = tmp_path / "experts.yaml"
    experts_file.write_text(yaml.safe_dump({"experts": experts}))
    (tmp_path / "home").mkdir(exist_ok=True)
    return {
        **os.environ,
        "SYMOE_DATA_DIR": str(tmp_path / "home"),
        "SYMOE_EXPERTS_FILE": str(experts_file),
        "SYMOE_BROKER_URL": BROKER,
        "SYMOE_RESULT_BACKEND": BACKEND,
        "HF_HUB_OFFLINE": "1",
    }


__all__ = [
    "BACKEND",
    "BROKER",
    "REPO",
    "client_app",
    "flush_redis",
    "redis_keys",
    "running_worker",
    "scripted",
    "start_worker",
    "stop",
    "wait_ready",
    "worker_env",
]
