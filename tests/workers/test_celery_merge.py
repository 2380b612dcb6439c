"""Groups of several API processes merge at the worker (real Redis, a real `symoe worker
--pool threads --concurrency 4`): two independent clients send single-request groups for one
slow expert at once; the worker runs them in fewer generate calls than groups, loads the model
once, and every client gets its own answers back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.runners import CeleryRunner
from orchestrator.scheduler import Group, GroupResult, StageRequest
from tests.celery_support import client_app, flush_redis, running_worker, scripted, worker_env
from workers.celery_app import pool_stats
from workers.types import GenerationParams, ModelSpec, Prompt

CLIENTS = ("a", "b")
PER_CLIENT = 4


@pytest.fixture
def clean_redis() -> Iterator[None]:
    flush_redis()
    yield
    flush_redis()


def _question(client: str, i: int) -> str:
    return f"Question {client}{i}? The options are: (A) yes (B) no"


def _groups(expert: dict[str, object], client: str) -> list[Group]:
    spec = ModelSpec.model_validate({k: v for k, v in expert.items() if k != "roles"})
    return [
        Group(
            stage="experts",
            spec=spec,
            params=GenerationParams(max_tokens=8),
            requests=[
                StageRequest(
                    key=f"{client}{i}", expert=spec.name, prompt=Prompt.user(_question(client, i))
                )
            ],
        )
        for i in range(PER_CLIENT)
    ]


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.usefixtures("clean_redis")
def test_groups_of_two_api_processes_merge_in_a_threads_worker(tmp_path: Path) -> None:
    responses = {_question(c, i): f"Answer for {c}{i}." for c in CLIENTS for i in range(PER_CLIENT)}
    expert = scripted("slow", delay_s=0.3, responses=responses)
    env = worker_env(tmp_path, [expert])
    runners = {c: CeleryRunner(client_app(), timeout_s=60) for c in CLIENTS}  # two processes' apps
    results: dict[str, list[GroupResult]] = {}
    errors: list[BaseException] = []

    def client(name: str) -> None:
        try:
            results[name] = runners[name].run_groups(_groups(expert, name))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    app = runners["a"].app
    log = tmp_path / "worker.log"
    with running_worker(app, env, log, "--pool", "threads", "--concurrency", "4"):
        threads = [threading.Thread(target=client, args=(c,)) for c in CLIENTS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        (stats,) = pool_stats(app).values()
    assert not errors and not any(t.is_alive() for t in threads)
    for c in CLIENTS:
        assert [r.expert for r in results[c]] == ["slow"] * PER_CLIENT
        assert [r.error for r in results[c]] == [None] * PER_CLIENT
        texts = [[x.text for x in r.completions if x] for r in results[c]]
        assert texts == [[f"Answer for {c}{i}."] for i in range(PER_CLIENT)]
    groups = len(CLIENTS) * PER_CLIENT
    assert stats.loads == 1 and sum(r.loaded for c in CLIENTS for r in results[c]) == 1
    assert stats.group_runs < groups and stats.merged_tasks > 0 and stats.merged_runs > 0
    assert stats.group_runs + stats.merged_tasks == groups
