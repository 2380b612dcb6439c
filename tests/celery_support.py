"""Real Redis and real `symoe worker` subprocesses for the distributed-serving tests.

The tests use Redis DBs 9 (broker) and 10 (results), flushed around every test, and skip
when no Redis server answers on 127.0.0.1:6379.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

celery = pytest.importorskip("celery", reason="needs the `distributed` extra (celery[redis])")
redis = pytest.importorskip("redis")

from celery import Celery  # noqa: E402

from workers.celery_app import make_celery_app  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BROKER = "redis://127.0.0.1:6379/9"
BACKEND = "redis://127.0.0.1:6379/10"
VISIBILITY_S = 2.0


def flush_redis() -> None:
    """Empty the test DBs, or skip the test when Redis is unreachable."""
    try:
        for db in (9, 10):
            redis.Redis(host="127.0.0.1", port=6379, db=db, socket_connect_timeout=1).flushdb()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis on 127.0.0.1:6379 is unreachable: {exc}")


def redis_keys(db: int) -> list[bytes]:
    return list(redis.Redis(host="127.0.0.1", port=6379, db=db).keys("*"))


def client_app(broker: str = BROKER) -> Celery:
    return make_celery_app(broker, BACKEND, visibility_timeout_s=VISIBILITY_S)


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
        "SYMOE_BROKER_VISIBILITY_TIMEOUT_S": str(VISIBILITY_S),
        "HF_HUB_OFFLINE": "1",
    }


def start_worker(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "orchestrator.cli.main", "worker", "--loglevel", "INFO", *args],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_ready(
    app: Celery, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 30
) -> None:
    """Until the worker answers a control ping (it consumes its queues from then on)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"worker exited {proc.returncode}:\n{log.read_text()}")
        if app.control.ping(timeout=0.5):
            return
    raise AssertionError(f"worker not ready after {timeout_s}s:\n{log.read_text()}")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def running_worker(
    app: Celery, env: dict[str, str], log: Path, *args: str
) -> Iterator[subprocess.Popen[bytes]]:
    proc = start_worker(env, log, *args)
    try:
        wait_ready(app, proc, log)
        yield proc
    finally:
        stop(proc, signal.SIGKILL)  # a warm shutdown would wait for a slow group
