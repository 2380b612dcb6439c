"""CeleryRunner against real Redis and a real `symoe worker` subprocess: a batch through
the pipeline, an unreachable broker, and a group that keeps exceeding its time limit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from orchestrator.errors import BrokerUnreachableError
from orchestrator.experts import Expert, ExpertRegistry
from orchestrator.pipeline import BatchOptions, BatchReport, Pipeline, Query
from orchestrator.runners import CeleryRunner, MicroBatchingRunner, Runner
from orchestrator.scheduler import Group, StageRequest
from tests.celery_support import (
    client_app,
    flush_redis,
    redis_keys,
    running_worker,
    scripted,
    worker_env,
)
from tests.orchestrator.conftest import build_pipeline
from workers.celery_app import pool_stats
from workers.types import GenerationParams, ModelSpec, Prompt

pytestmark = pytest.mark.redis

MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


@pytest.fixture(autouse=True)
def clean_redis() -> Iterator[None]:
    flush_redis()
    yield
    flush_redis()


def _pipeline(experts: list[dict[str, object]], runner: Runner) -> Pipeline:
    return build_pipeline(ExpertRegistry([Expert.model_validate(e) for e in experts]), runner)


def test_a_batch_through_a_worker_loads_each_expert_once(tmp_path: Path) -> None:
    experts = [scripted(f"e{i}") for i in range(5)]
    app = client_app()
    runner = CeleryRunner(app, timeout_s=20, retries=0)
    with running_worker(app, worker_env(tmp_path, experts), tmp_path / "worker.log"):
        report = _pipeline(experts, runner).run(
            [Query(text=f"{MC} #{i}") for i in range(20)], BatchOptions(k=3, aggregator="e0")
        )
        stats = pool_stats(app)
        celery_stats = app.control.inspect(timeout=2).stats() or {}
    assert all(t.answer and not t.error for t in report.traces)
    distinct = {name for t in report.traces for name in t.recruitment.drawn}
    stage = {t.stage: t for t in report.stages}
    assert stage["experts"].groups == stage["experts"].loads == len(distinct)
    assert stage["aggregate"].loads == (0 if "e0" in distinct else 1)
    (worker_stats,) = stats.values()
    assert worker_stats.loads == len(distinct | {"e0"})
    assert all(n == 1 for n in worker_stats.loads_by_model.values())
    assert runner.resubmissions == 0
    # the same counters in Celery's own `celery inspect stats`
    (inspected,) = celery_stats.values()
    assert inspected["symoe_pool"]["loads"] == worker_stats.loads
    assert sorted(inspected["symoe_pool"]["resident"]) == sorted(worker_stats.resident)


def test_concurrent_queries_are_micro_batched_into_few_groups(tmp_path: Path) -> None:
    experts = [scripted(f"e{i}") for i in range(3)]
    app = client_app()
    runner = MicroBatchingRunner(CeleryRunner(app, timeout_s=20, retries=0), window_s=0.5)
    pipeline = _pipeline(experts, runner)
    n = 24
    start = threading.Barrier(n)

    def ask(i: int) -> BatchReport:
        start.wait()
        return pipeline.run([Query(text=f"{MC} #{i}")], BatchOptions(k=2, aggregator="e0"))

    with running_worker(app, worker_env(tmp_path, experts), tmp_path / "worker.log"):
        with ThreadPoolExecutor(n) as executor:
            reports = list(executor.map(ask, range(n)))
        stats = pool_stats(app)
    assert all(r.traces[0].answer and not r.traces[0].error for r in reports)
    assert runner.stats.groups_in >= 2 * n  # at least one expert group and the aggregator's
    assert runner.stats.groups_sent <= 4  # one per (stage, expert): 3 experts + aggregator
    (worker_stats,) = stats.values()
    assert worker_stats.loads == 3


def test_an_unreachable_broker_is_a_clear_error_and_nothing_is_stored(tmp_path: Path) -> None:
    experts = [scripted("e0")]
    runner = CeleryRunner(client_app("redis://127.0.0.1:1/0"), timeout_s=5, retries=1)
    with pytest.raises(
        BrokerUnreachableError, match=r"cannot reach the broker at redis://127\.0\.0\.1:1/0: "
    ):
        _pipeline(experts, runner).run([Query(text=MC)], BatchOptions(k=1, aggregator="e0"))
    assert redis_keys(9) == [] and redis_keys(10) == []


def test_a_group_over_its_time_limit_is_retried_then_reported(tmp_path: Path) -> None:
    slow = scripted("slow", delay_s=3)
    app = client_app()
    runner = CeleryRunner(app, timeout_s=1, retries=1)
    spec = ModelSpec.model_validate({k: v for k, v in slow.items() if k != "roles"})
    group = Group(
        stage="experts",
        spec=spec,
        params=GenerationParams(max_tokens=8),
        requests=[StageRequest(key="q1", expert="slow", prompt=Prompt.user(MC))],
    )
    with running_worker(app, worker_env(tmp_path, [slow]), tmp_path / "worker.log"):
        (result,) = runner.run([group])
    assert runner.resubmissions == 1
    assert result.completions == [None]
    assert result.error == "group experts/slow timed out after 1s (2 attempts)"
