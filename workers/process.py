"""Start a `symoe worker` subprocess and wait until it consumes its queues: for local
development without compose, the benchmarks and the tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from celery import Celery

REPO = Path(__file__).resolve().parents[1]


class WorkerStartError(RuntimeError):
    """The worker exited or did not answer in time; the message holds its log's tail."""


def wait_for(
    predicate: Callable[[], Any], what: str, timeout_s: float = 180, interval_s: float = 0.05
) -> Any:
    """Poll until `predicate` returns something truthy and return it; TimeoutError naming
    `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise TimeoutError(f"timed out after {timeout_s:g}s waiting for {what}")


def start_worker(env: Mapping[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "orchestrator.cli.main", "worker", "--loglevel", "INFO", *args],
            cwd=REPO,
            env=dict(env),
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
            raise WorkerStartError(f"worker exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        if app.control.ping(timeout=0.5):
            return
    raise WorkerStartError(f"worker not ready after {timeout_s}s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal the worker's whole process group (it leads its own session), so processes it
    started (vLLM's engine core and workers) go with it instead of living on as orphans
    holding gigabytes; whatever is left of the group once the worker is gone is killed."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


@contextmanager
def running_worker(
    app: Celery, env: Mapping[str, str], log: Path, *args: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A worker for the duration of the block, killed afterwards (a warm shutdown would
    wait for a slow group)."""
    proc = start_worker(env, log, *args)
    try:
        wait_ready(app, proc, log)
        yield proc
    finally:
        stop(proc, signal.SIGKILL)
