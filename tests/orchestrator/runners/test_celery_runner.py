"""CeleryRunner against real Redis and a real `symoe worker` subprocess: a batch through
the answering service, an unreachable broker, a group that keeps exceeding its time limit, a healthy
group that outlasts the liveness window, and a cancel while a group is outstanding."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from orchestrator.answering import AnsweringService
from orchestrator.errors import BrokerUnreachableError, RunnerClosedError
from orchestrator.experts import Expert, ExpertRegistry
from orchestrator.plan import BatchOptions, Query
from orchestrator.runners import CeleryRunner, MicroBatchingRunner, Runner
from orchestrator.scheduler import Group, StageRequest
from orchestrator.trace import BatchReport
from tests.celery_support import (
    client_app,
    flush_redis,
    redis_keys,
    running_worker,
    scripted,
    worker_env,
)
from tests.orchestrator.conftest import build_answering
from workers.celery_app import pool_stats
from workers.liveness import abandoned_key
from workers.types import GenerationParams, ModelSpec, Prompt

pytestmark = pytest.mark.redis

MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


@pytest.fixture(autouse=True)
def clean_redis() -> Iterator[None]:
    flush_redis()
    yield
    flush_redis()


def _answering(experts: list[dict[str, object]], runner: Runner) -> AnsweringService:
    return build_answering(ExpertRegistry([Expert.model_validate(e) for e in experts]), runner)


def test_a_batch_through_a_worker_loads_each_expert_once(tmp_path: Path) -> None:
    experts = [scripted(f"e{i}") for i in range(5)]
    app = client_app()
    runner = CeleryRunner(app, timeout_s=20, retries=0)
    with running_worker(app, worker_env(tmp_path, experts), tmp_path / "worker.log"):
        report = _answering(experts, runner).answer(
            [Query(text=f"{MC} #{i}") for i in range(20)],
            BatchOptions(k=3, aggregation="llm", aggregator="e0"),
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
    answering = _answering(experts, runner)
    n = 24
    start = threading.Barrier(n)

    def ask(i: int) -> BatchReport:
        start.wait()
        return answering.answer(
            [Query(text=f"{MC} #{i}")], BatchOptions(k=2, aggregation="llm", aggregator="e0")
        )

    with running_worker(app, worker_env(tmp_path, experts), tmp_path / "worker.log"):
        with ThreadPoolExecutor(n) as executor:
            reports = list(executor.map(ask, range(n)))
        stats = pool_stats(app)
    assert all(r.traces[0].answer and not r.traces[0].error for r in reports)
    assert runner.stats.groups_in >= 2 * n  # at least one expert group and the aggregator's
    # the first group of each (stage, expert) goes at once (3 experts + aggregator), the rest
    # gather behind it: 10 groups in our runs, far below the 48 of one per request and stage
    assert runner.stats.groups_sent <= 16
    (worker_stats,) = stats.values()
    assert worker_stats.loads == 3


def test_an_unreachable_broker_is_a_clear_error_and_nothing_is_stored(tmp_path: Path) -> None:
    experts = [scripted("e0")]
    runner = CeleryRunner(client_app("redis://127.0.0.1:1/0"), timeout_s=5, retries=1)
    with pytest.raises(
        BrokerUnreachableError, match=r"cannot reach the broker at redis://127\.0\.0\.1:1/0: "
    ):
        _answering(experts, runner).answer(
            [Query(text=MC)], BatchOptions(k=1, aggregation="llm", aggregator="e0")
        )
    assert redis_keys(9) == [] and redis_keys(10) == []


def _one_group(expert: dict[str, object]) -> Group:
    spec = ModelSpec.model_validate({k: v for k, v in expert.items() if k != "roles"})
    return Group(
        stage="experts",
        spec=spec,
        params=GenerationParams(max_tokens=8),
        requests=[StageRequest(key="q1", expert=spec.name, prompt=Prompt.user(MC))],
    )


def test_a_group_over_its_time_limit_is_retried_then_reported(tmp_path: Path) -> None:
    slow = scripted("slow", delay_s=3)
    app = client_app()
    runner = CeleryRunner(app, timeout_s=1, retries=1)
    group = _one_group(slow)
    with running_worker(app, worker_env(tmp_path, [slow]), tmp_path / "worker.log"):
        (result,) = runner.run_groups([group])
    assert runner.resubmissions == 1
    assert result.completions == [None]
    assert result.error == "group experts/slow timed out after 1s (2 attempts)"


def test_a_healthy_group_longer_than_the_liveness_window_runs_once(tmp_path: Path) -> None:
    """The worker beats from its own thread while the solo pool is busy generating, so a
    group lasting three liveness windows is neither judged lost nor sent again."""
    slow = scripted("slow", delay_s=3)
    app = client_app()
    runner = CeleryRunner(app, timeout_s=60, retries=1, liveness_check_s=0.2)
    env = {
        **worker_env(tmp_path, [slow]),
        "SYMOE_WORKER_HEARTBEAT_S": "0.2",
        "SYMOE_WORKER_LOST_AFTER_S": "1",
    }
    with running_worker(app, env, tmp_path / "worker.log"):
        (result,) = runner.run_groups([_one_group(slow)])
        (stats,) = pool_stats(app).values()
    assert result.error is None and all(result.completions)
    assert runner.lost_workers == 0 and runner.resubmissions == 0
    assert stats.loads == 1


def test_a_cancel_stops_the_wait_and_abandons_the_outstanding_group(tmp_path: Path) -> None:
    """What a stopping server does: the caller gets RunnerClosedError instead of waiting for
    the group, and the group is marked abandoned (a worker that gets it later skips it)."""
    slow = scripted("slow", delay_s=120)
    app = client_app()
    runner = CeleryRunner(app)
    raised: list[BaseException] = []

    def run() -> None:
        try:
            runner.run_groups([_one_group(slow)])
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=run)
    with running_worker(app, worker_env(tmp_path, [slow]), tmp_path / "worker.log"):
        thread.start()
        while not redis_keys(10, "celery-task-meta-*"):  # the worker started the group
            thread.join(0.05)
        (meta_key,) = redis_keys(10, "celery-task-meta-*")
        runner.cancel()
        thread.join(timeout=60)  # half the group's generation time
        assert not thread.is_alive(), "the runner waited for the group"
    assert [type(e) for e in raised] == [RunnerClosedError]
    task_id = meta_key.decode().removeprefix("celery-task-meta-")
    assert redis.Redis(db=10).exists(abandoned_key(task_id))
    with pytest.raises(RunnerClosedError):
        runner.run_groups([_one_group(slow)])
