"""Workflow sub-tasks through real Celery workers (`symoe worker --workflows`, Redis as broker
and result backend): `symoe workflow run --runner celery` sends the tasks step's sub-tasks as a
group with a chord collecting the step's output, the workers make and store every attempt in
the shared run store, and the CLI process goes on to mix. Then a worker is SIGKILLed in the
middle of a run: the broker delivers its sub-task again to a second worker, which goes on from
the stored attempts; the run succeeds with no attempt made twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from orchestrator.db import Stores, make_engine, session_factory
from orchestrator.workflows.types import WorkflowRunRecord
from tests.celery_support import BACKEND, BROKER, client_app, flush_redis
from tests.e2e.rainy_workflow import WORKFLOW, planner_experts, rainy_plan
from workers.process import start_worker, stop, wait_ready

SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]


@pytest.fixture
def env(cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    flush_redis()
    return {
        **cli_env,
        "SYMOE_PROFILE_FILE": "",
        "SYMOE_BROKER_URL": BROKER,
        "SYMOE_RESULT_BACKEND": BACKEND,
    }


def setup_workflow(env: dict[str, str], tmp_path: Path, events: int, seconds: int = 2) -> Path:
    plan = rainy_plan(events, seconds, description="rain")
    env["SYMOE_EXPERTS_FILE"] = str(planner_experts(tmp_path / "experts.yaml", plan))
    path = tmp_path / "rainy.yaml"
    path.write_text(WORKFLOW.replace("parallel: 1\n", ""))  # the default pool of 4
    return path


def stores(env: dict[str, str]) -> Stores:
    return Stores(session_factory(make_engine(f"sqlite:///{env['SYMOE_DATA_DIR']}/symoe.db")))


def in_a_sub_task(record: WorkflowRunRecord) -> list[str]:
    """The sub-tasks running now (not their route records)."""
    return [
        s.key
        for s in record.steps
        if s.kind == "task" and s.status == "running" and not s.key.endswith(":route")
    ]


def test_sub_tasks_run_on_a_real_worker_and_the_run_finishes(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = setup_workflow(env, tmp_path, events=4)
    log = tmp_path / "worker.log"
    worker = start_worker(env, log, "--workflows", "--pool", "threads", "--concurrency", "2")
    try:
        wait_ready(client_app(), worker, log, timeout_s=60)
        done = subprocess.run(
            [*SYMOE, "workflow", "run", str(path), "--input", "rain", "--runner", "celery",
             "--json"],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        stop(worker, signal.SIGKILL)
    assert done.returncode == 0, done.stderr + log.read_text()[-3000:]
    assert "generate: 4 sub-task(s) sent to the workers" in done.stderr
    record = json.loads(done.stdout)
    assert record["status"] == "succeeded"
    output = stores(env).workflows.done_steps(record["id"])["generate"]
    # every sub-task ran in the worker process, none in the CLI's
    assert set(output["ran_on"]) == {f"{n}-sfx" for n in range(1, 5)}
    assert all(host.startswith(f"symoe-{worker.pid}@") for host in output["ran_on"].values())
    assert {a["task_id"] for a in record["attempts"]} == set(output["ran_on"])
    artifacts = Path(env["SYMOE_DATA_DIR"]) / "workflows" / record["id"] / "artifacts"
    assert (artifacts / "soundscape.wav").read_bytes()[:4] == b"RIFF"


def test_a_killed_worker_s_sub_task_is_delivered_again_and_goes_on(
    env: dict[str, str], tmp_path: Path
) -> None:
    events = 10
    # long clips: a sub-task takes long enough for the kill to land inside one
    path = setup_workflow(env, tmp_path, events=events, seconds=60)
    # the broker gives an unacknowledged sub-task to another worker after 4 s
    env["SYMOE_BROKER_VISIBILITY_TIMEOUT_S"] = "4"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = start_worker(env, first_log, "--workflows")
    second = None
    run = None
    try:
        wait_ready(client_app(), first, first_log, timeout_s=60)
        run = subprocess.Popen(
            [*SYMOE, "workflow", "run", str(path), "--input", "rain", "--runner", "celery",
             "--json"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        store = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if store is None and (Path(env["SYMOE_DATA_DIR"]) / "symoe.db").exists():
                store = stores(env).workflows
            try:
                runs = store.list() if store is not None else []
            except OperationalError:  # a process is still creating the tables
                runs = []
            seen = store.get(runs[0].id) if runs else None  # type: ignore[union-attr]
            if seen is not None and len(seen.attempts) >= 2 and in_a_sub_task(seen):
                break
            time.sleep(0.05)
        stop(first, signal.SIGKILL)  # mid-run: sub-tasks done, one in flight, more queued
        killed = store.get(runs[0].id)  # type: ignore[union-attr]
        assert len(killed.attempts) < events, "the run ended before the kill"
        in_flight = in_a_sub_task(killed)
        second = start_worker(env, second_log, "--workflows")
        out, err = run.communicate(timeout=300)
    finally:
        for proc in (first, second):
            if proc is not None:
                stop(proc, signal.SIGKILL)
        if run is not None and run.poll() is None:
            run.kill()
    assert run is not None and run.returncode == 0, err + second_log.read_text()[-3000:]
    record = json.loads(out)
    assert record["status"] == "succeeded"
    made = [(a["task_id"], a["candidate"], a["number"]) for a in record["attempts"]]
    assert len(made) == len(set(made))  # no attempt made twice
    assert {t for t, _, _ in made} == {f"{n}-sfx" for n in range(1, events + 1)}
    ran_on = stores(env).workflows.done_steps(record["id"])["generate"]["ran_on"]
    hosts = {h.split("@")[0] for h in ran_on.values()}
    assert f"symoe-{second.pid}" in hosts  # type: ignore[union-attr]
    # the sub-task the kill cut short was delivered again and went on from its stored attempts
    assert len(in_flight) == 1, "the kill did not land inside a sub-task"
    said = second_log.read_text()
    assert f"{in_flight[0]}: interrupted before, going on from its stored attempts" in said
