"""The logic under the Celery sub-task runner, without a worker (tests/e2e/test_workflow_celery.py
runs real ones): a sub-task delivered again after its worker died goes on from its stored
attempts, one delivered after it finished is not run again, the payloads survive a JSON round
trip through the engine, and a run asked to use Celery with no worker serving the queue fails
at once with what to do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.db import Stores, make_engine, migrate, session_factory
from orchestrator.errors import ConfigError
from orchestrator.workflows.celery_subtasks import (
    CelerySubtasks,
    _served_at,
    collect_payloads,
    run_subtask_payload,
)
from orchestrator.workflows.engine import WorkflowEngine
from orchestrator.workflows.spec import parse_workflow
from orchestrator.workflows.tools import WorkflowContext
from orchestrator.workflows.types import Attempt, SubTask
from tests.orchestrator.workflows.scripted import CALLS, CRASHED, Crash, workflow


def plan(*descriptions: str, crash: bool = False) -> str:
    events = [{"type": "beep", "description": d, "crash_on_first": crash} for d in descriptions]
    return json.dumps({"events": events})


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Stores]:
    engine = make_engine(f"sqlite:///{tmp_path / 'symoe.db'}")
    migrate(engine)
    CALLS.clear()
    CRASHED.clear()
    yield Stores(session_factory(engine))
    engine.dispose()


def make_engine_for(
    stores: Stores, tmp_path: Path, planned: str, progress: list[str] | None = None
) -> WorkflowEngine:
    spec = parse_workflow(workflow(threshold=0.4, parallel=1), "beeps.yaml")
    context = WorkflowContext(ask=lambda *_: planned)
    sink = progress.append if progress is not None else None
    return WorkflowEngine(spec, stores.workflows, tmp_path / "runs", context, sink)


class Loopback:
    """A SubtaskRunner that runs each sub-task's payload as a worker would, in this process,
    and collects them as the chord's callback does: JSON in and out."""

    def __init__(self, engine: WorkflowEngine) -> None:
        self.engine = engine
        self.sent: list[str] = []

    def run(
        self, run_id: str, todo: list[tuple[str, SubTask]]
    ) -> tuple[dict[str, Attempt], dict[str, str]]:
        results = []
        for key, task in todo:
            self.sent.append(key)
            body = json.loads(json.dumps(task.model_dump(mode="json")))
            out = run_subtask_payload(lambda _run: self.engine, run_id, key, body)
            results.append(json.loads(json.dumps(out | {"worker": "loopback@here"})))
        collected = collect_payloads(results)
        accepted = {k: Attempt.model_validate(v) for k, v in collected["accepted"].items()}
        return accepted, collected["ran_on"]


def test_sub_tasks_sent_to_a_runner_come_back_as_the_steps_output(
    stores: Stores, tmp_path: Path
) -> None:
    engine = make_engine_for(stores, tmp_path, plan("a", "b"))
    engine.subtasks = loopback = Loopback(engine)
    run_id = stores.workflows.create_run("beeps", "0" * 64, {"input": "x"})
    engine.run(run_id, "x")
    record = stores.workflows.get(run_id)
    assert record.status == "succeeded" and loopback.sent == ["make:1-beep", "make:2-beep"]
    output = stores.workflows.done_steps(run_id)["make"]
    assert sorted(output["accepted"]) == ["1-beep", "2-beep"]
    assert output["ran_on"] == {"1-beep": "loopback@here", "2-beep": "loopback@here"}
    assert {s.key: s.status for s in record.steps}["make:2-beep"] == "done"


def test_a_sub_task_delivered_again_goes_on_and_is_never_made_twice(
    stores: Stores, tmp_path: Path
) -> None:
    said: list[str] = []
    engine = make_engine_for(stores, tmp_path, plan("a", crash=True), said)
    run_id = stores.workflows.create_run("beeps", "0" * 64, {"input": "x"})
    with pytest.raises(Crash):  # the worker dies inside the tool
        engine.run(run_id, "x")
    steps = {s.key: s.status for s in stores.workflows.get(run_id).steps}
    assert steps["make:1-beep"] == "running"

    task = SubTask(id="1-beep", type="beep", fields={"description": "a", "crash_on_first": True})
    again = engine.run_subtask(run_id, "make:1-beep", task)  # the broker delivers it again
    assert "make:1-beep: interrupted before, going on from its stored attempts" in said
    assert again.error is None and CALLS["echo"] == 2
    steps = {s.key: s.status for s in stores.workflows.get(run_id).steps}
    assert steps["make:1-beep"] == "done"

    late = engine.run_subtask(run_id, "make:1-beep", task)  # a late duplicate delivery
    assert late == again and CALLS["echo"] == 2  # the kept attempt, no tool called
    assert len(stores.workflows.attempts(run_id, "1-beep")) == 1


def test_no_worker_on_the_queue_fails_at_once_with_what_to_do(
    stores: Stores, tmp_path: Path
) -> None:
    from tests.celery_support import client_app, flush_redis

    flush_redis()
    _served_at.clear()  # no worker seen on this broker lately
    engine = make_engine_for(stores, tmp_path, plan("a"))
    engine.subtasks = CelerySubtasks(client_app(), timeout_s=5)
    run_id = stores.workflows.create_run("beeps", "0" * 64, {"input": "x"})
    with pytest.raises(Exception, match="no Celery worker serves the 'workflows' queue"):
        engine.run(run_id, "x")
    record = stores.workflows.get(run_id)
    assert record.status == "failed" and "symoe worker --workflows" in (record.error or "")
    assert {s.key: s.status for s in record.steps}["make"] == "failed"
    assert CALLS["echo"] == 0
    with pytest.raises(ConfigError):  # the same check, directly
        CelerySubtasks(client_app(), timeout_s=5)._check_served()
