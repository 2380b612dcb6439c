"""The Celery worker: the task payload round trip, the CLI's checks, and (real Redis, real
worker subprocesses) redelivery of the groups of a worker killed mid-group."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.runners import CeleryRunner
from orchestrator.scheduler import Group, GroupResult, StageRequest
from tests.celery_support import (
    REPO,
    client_app,
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


@pytest.mark.redis
@pytest.mark.usefixtures("clean_redis")
def test_groups_of_a_killed_worker_are_redelivered_and_complete_once(tmp_path: Path) -> None:
    experts = [scripted(f"e{i}", delay_s=1.0) for i in range(3)]
    env = worker_env(tmp_path, experts)
    app = client_app()
    runner = CeleryRunner(app, timeout_s=30, retries=0)
    groups = [_group(e) for e in experts]
    results: list[GroupResult] = []
    thread = threading.Thread(target=lambda: results.extend(runner.run(groups)))

    log = tmp_path / "worker.log"
    first = start_worker(env, log)
    try:
        wait_ready(app, first, log)
        thread.start()
        deadline = time.monotonic() + 10
        while not redis_keys(10) and time.monotonic() < deadline:  # STARTED state stored
            time.sleep(0.05)
        assert redis_keys(10), "the first worker never started a group"
    finally:
        stop(first, signal.SIGKILL)
    with running_worker(app, env, tmp_path / "worker2.log"):
        thread.join(timeout=30)
        stats = pool_stats(app)
    assert not thread.is_alive()
    assert [r.expert for r in results] == ["e0", "e1", "e2"]
    assert all(r.error is None and all(r.completions) for r in results)
    assert runner.resubmissions == 0  # redelivered by the broker, not sent again
    (second,) = stats.values()
    assert second.loads == 3 and all(n == 1 for n in second.loads_by_model.values())
