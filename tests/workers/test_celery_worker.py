"""The Celery worker: the task payload round trip, the CLI's checks, and (real Redis, real
worker subprocesses, default settings) the group of a worker killed mid-group: sent again
once its heartbeat stops, run once, and skipped when the broker delivers it again later."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from orchestrator.factory import Deployment
from orchestrator.runners import CeleryRunner
from orchestrator.scheduler import Group, GroupResult, StageRequest
from orchestrator.settings import Settings
from tests.celery_support import (
    BACKEND,
    BROKER,
    REPO,
    flush_redis,
    redis_keys,
    running_worker,
    scripted,
    start_worker,
    stop,
    wait_ready,
    worker_env,
)
from workers.celery_app import pool_stats, run_group_payload
from workers.types import GenerationParams, ModelSpec, Prompt

MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


def _group(expert: dict[str, object], n: int = 2) -> Group:
    spec = ModelSpec.model_validate({k: v for k, v in expert.items() if k != "roles"})
    return Group(
        stage="experts",
        spec=spec,
        params=GenerationParams(max_tokens=8),
        requests=[
            StageRequest(key=f"q{i}", expert=spec.name, prompt=Prompt.user(f"{MC} #{i}"))
            for i in range(n)
        ],
    )


def test_the_task_payload_is_json_in_and_a_group_result_out() -> None:
    group = _group(scripted("e0"), n=3)
    out = run_group_payload(group.model_dump(mode="json"), memory_budget_mb=1000)
    result = GroupResult.model_validate(out)
    assert result.expert == "e0" and result.stage == "experts" and result.error is None
    assert [c.text for c in result.completions if c] == ["e0 thinks. The answer is (A)."] * 3


def test_the_worker_cli_rejects_unknown_experts_and_pools(tmp_path: Path) -> None:
    env = worker_env(tmp_path, [scripted("e0")])
    for args, message in (
        (["--experts", "nope"], "unknown expert 'nope'"),
        (["--pool", "prefork"], "unknown pool 'prefork'"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "orchestrator.cli.main", "worker", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2 and message in proc.stderr


@pytest.fixture
def clean_redis() -> Iterator[None]:
    flush_redis()
    yield
    flush_redis()


def _wait_until(predicate: Callable[[], object], what: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.usefixtures("clean_redis")
def test_a_killed_workers_group_is_sent_again_with_the_defaults_and_runs_once(
    tmp_path: Path,
) -> None:
    experts = [scripted(f"e{i}", delay_s=1.0) for i in range(3)]
    env = worker_env(tmp_path, experts)
    settings = Settings(runner="celery", broker_url=BROKER, result_backend=BACKEND)
    runner = Deployment(settings).make_runner()  # the default timeouts, retries, heartbeat
    assert isinstance(runner, CeleryRunner)
    app = runner.app
    groups = [_group(e) for e in experts]
    results: list[GroupResult] = []
    thread = threading.Thread(target=lambda: results.extend(runner.run_groups(groups)))

    log = tmp_path / "worker.log"
    first = start_worker(env, log)
    try:
        wait_ready(app, first, log)
        thread.start()
        _wait_until(lambda: redis_keys(10, "celery-task-meta-*"), "a group's STARTED state")
    finally:
        stop(first, signal.SIGKILL)
    with running_worker(app, env, tmp_path / "worker2.log"):
        thread.join(timeout=120)  # a fifth of the default group time-out (600 s)
        stats = pool_stats(app)
    assert not thread.is_alive(), "the killed worker's group was not sent again"
    assert [r.expert for r in results] == ["e0", "e1", "e2"]
    assert all(r.error is None and all(r.completions) for r in results)
    assert runner.lost_workers == 1 and runner.resubmissions == 1  # the started group only
    (second,) = stats.values()
    assert second.loads == 3 and all(n == 1 for n in second.loads_by_model.values())

    # The broker still holds the dead worker's unacknowledged message; its visibility timeout
    # (an hour by default, one second for this third worker) restores it to the queue. The
    # orchestrator abandoned that attempt, so the worker skips it instead of running it again.
    assert redis.Redis(db=9).hlen("unacked") == 1
    third_log = tmp_path / "worker3.log"
    third_env = {**env, "SYMOE_BROKER_VISIBILITY_TIMEOUT_S": "1"}
    with running_worker(app, third_env, third_log):
        _wait_until(lambda: "was abandoned" in third_log.read_text(), "the redelivery")
        (third,) = pool_stats(app).values()
    assert third.loads == 0 and redis.Redis(db=9).hlen("unacked") == 0
