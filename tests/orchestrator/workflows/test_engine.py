"""The workflow engine's logic on scripted roles and tools, checkpointed in the real run store
(SQLite): acceptance, bounded retries with rewritten instructions, the best attempt kept, a
failing or hung tool handing over to the next candidate, parallel sub-tasks, a planner that
keeps giving invalid output, a crashed run resumed without repeating a finished step, and
the candidates routed by their measured profile or by rules."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.db import Stores, make_engine, migrate, session_factory
from orchestrator.workflows.engine import WorkflowEngine, WorkflowFailed
from orchestrator.workflows.spec import parse_workflow
from orchestrator.workflows.tools import WorkflowContext
from orchestrator.workflows.types import Attempt
from tests.orchestrator.workflows.scripted import BARRIER, CALLS, CRASHED, Crash, workflow


class ScriptedPlanner:
    def __init__(self, outputs: list[str]) -> None:
        self.outputs = outputs
        self.asked: list[tuple[str, str]] = []

    def __call__(self, expert: str, prompt: str, schema: dict[str, Any] | None, n: int) -> str:
        self.asked.append((expert, prompt))
        return self.outputs[min(len(self.asked), len(self.outputs)) - 1]


def plan(*events: dict[str, Any]) -> str:
    return json.dumps({"events": [{"type": "beep", **e} for e in events]})


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Stores]:
    engine = make_engine(f"sqlite:///{tmp_path / 'symoe.db'}")
    migrate(engine)
    CALLS.clear()
    BARRIER.clear()
    CRASHED.clear()
    yield Stores(session_factory(engine))
    engine.dispose()


def run(
    stores: Stores, tmp_path: Path, spec_text: str, planner: ScriptedPlanner
) -> tuple[str, WorkflowEngine]:
    spec = parse_workflow(spec_text, "beeps.yaml")
    engine = WorkflowEngine(spec, stores.workflows, tmp_path / "runs", WorkflowContext(ask=planner))
    run_id = stores.workflows.create_run("beeps", "0" * 64, {"input": "three beeps"})
    engine.run(run_id, "three beeps")
    return run_id, engine


def kept(stores: Stores, run_id: str) -> dict[str, Attempt]:
    accepted = stores.workflows.done_steps(run_id)["make"]["accepted"]
    return {k: Attempt.model_validate(v) for k, v in accepted.items()}


def test_the_first_passing_attempt_is_accepted(stores: Stores, tmp_path: Path) -> None:
    planner = ScriptedPlanner([plan({"description": "a beep"})])
    run_id, _ = run(stores, tmp_path, workflow(threshold=0.4), planner)
    record = stores.workflows.get(run_id)
    assert record.status == "succeeded" and [a.number for a in record.attempts] == [1]
    assert planner.asked == [("scripted-planner", "Plan beeps for: three beeps")]
    assert [s.key for s in record.steps] == ["plan", "make", "make:1-beep", "assemble"]
    result = json.loads((tmp_path / "runs" / run_id / "artifacts" / "result.json").read_text())
    assert result["tasks"][0]["kept"]["scores"][0]["value"] == pytest.approx(0.4)


def test_a_failed_review_rewrites_the_instruction_with_the_reasons(
    stores: Stores, tmp_path: Path
) -> None:
    run_id, _ = run(stores, tmp_path, workflow(), ScriptedPlanner([plan({"description": "b"})]))
    attempts = stores.workflows.get(run_id).attempts
    assert [(a.candidate, a.number) for a in attempts] == [("echo", 1), ("echo", 2)]
    assert attempts[1].instruction == "b\nRevise: quality: louder"
    assert kept(stores, run_id)["1-beep"].number == 2  # 0.7 passes 0.65


def test_the_tries_are_bounded_and_the_best_is_kept(stores: Stores, tmp_path: Path) -> None:
    planner = ScriptedPlanner([plan({"description": "c"})])
    spec = workflow(threshold=0.95, attempts_per_candidate=3)
    run_id, _ = run(stores, tmp_path, spec, planner)
    attempts = stores.workflows.get(run_id).attempts
    assert [a.mean_score() for a in attempts] == pytest.approx([0.4, 0.7, 1.0])
    assert kept(stores, run_id)["1-beep"].number == 3  # 1.0 passes: accepted at the bound

    spec = workflow(threshold=0.99, attempts_per_candidate=2)
    run_id, _ = run(stores, tmp_path, spec, planner)
    attempts = stores.workflows.get(run_id).attempts
    assert len(attempts) == 2  # never passes: two tries, then the best is kept
    assert kept(stores, run_id)["1-beep"].mean_score() == pytest.approx(0.7)

    spec = workflow("[broken, echo]", threshold=0.4, candidates_per_task=1)
    run_id, _ = run(stores, tmp_path, spec, planner)
    (only,) = stores.workflows.get(run_id).attempts  # one candidate allowed: echo never asked
    assert only.candidate == "broken" and kept(stores, run_id)["1-beep"].mean_score() == 0.0


def test_a_failing_or_hung_tool_hands_over_to_the_next_candidate(
    stores: Stores, tmp_path: Path
) -> None:
    planner = ScriptedPlanner([plan({"description": "d"})])
    spec = workflow("[broken, echo]", threshold=0.4, candidates_per_task=2)
    run_id, _ = run(stores, tmp_path, spec, planner)
    first, second = stores.workflows.get(run_id).attempts
    assert first.error == "broken failed: the synthesiser is out of order" and not first.scores
    assert (second.candidate, second.error) == ("echo", None)
    assert CALLS["broken"] == 1  # a failed tool is not retried

    spec = workflow("[hung, echo]", threshold=0.4)
    run_id, _ = run(stores, tmp_path, spec, planner)
    hung, echo = stores.workflows.get(run_id).attempts
    assert hung.error == "hung timed out after 1 s" and echo.candidate == "echo"


def test_sub_tasks_run_in_parallel(stores: Stores, tmp_path: Path) -> None:
    BARRIER["barrier"] = threading.Barrier(4)  # a serial engine would wait here forever
    events = [{"description": f"beep {n}"} for n in range(4)]
    run_id, _ = run(stores, tmp_path, workflow(threshold=0.4), ScriptedPlanner([plan(*events)]))
    assert sorted(kept(stores, run_id)) == ["1-beep", "2-beep", "3-beep", "4-beep"]
    assert all(a.error is None for a in stores.workflows.get(run_id).attempts)


def test_invalid_planner_output_is_re_asked_then_fails_the_run_with_it_saved(
    stores: Stores, tmp_path: Path
) -> None:
    planner = ScriptedPlanner(['{"events": [{"type": "boop"}]}', plan({"description": "e"})])
    run_id, _ = run(stores, tmp_path, workflow(threshold=0.4), planner)
    assert stores.workflows.done_steps(run_id)["plan"]["asks"] == 2
    # the re-ask says what was wrong (greedy decoding would repeat the same output)
    assert "not usable (events[0] lacks description)" in planner.asked[1][1]

    never_valid = ScriptedPlanner(["I would love to plan some beeps!"])
    with pytest.raises(WorkflowFailed, match="the planner gave no valid plan in 2 asks"):
        run(stores, tmp_path, workflow(), never_valid)
    (failed,) = [r for r in stores.workflows.list() if r.status == "failed"]
    step = stores.workflows.get(failed.id).steps[0]
    assert step.status == "failed" and "I would love to plan some beeps!" in (step.error or "")


def test_a_crashed_run_resumes_without_repeating_a_finished_step(
    stores: Stores, tmp_path: Path
) -> None:
    planner = ScriptedPlanner(
        [plan({"description": "f"}, {"description": "g", "crash_on_first": True})]
    )
    spec = parse_workflow(workflow(threshold=0.4, parallel=1), "beeps.yaml")
    engine = WorkflowEngine(spec, stores.workflows, tmp_path / "runs", WorkflowContext(ask=planner))
    run_id = stores.workflows.create_run("beeps", "0" * 64, {"input": "x"})
    with pytest.raises(Crash):
        engine.run(run_id, "x")
    crashed = stores.workflows.get(run_id)
    assert crashed.status == "running"
    assert {s.key: s.status for s in crashed.steps}["make"] == "running"

    engine.run(run_id, "x")  # resume
    record = stores.workflows.get(run_id)
    assert record.status == "succeeded" and len(planner.asked) == 1  # the plan was not redone
    statuses = {s.key: s.status for s in record.steps}
    assert statuses == {
        "plan": "done",
        "make:1-beep": "done",
        "make:2-beep": "done",
        "make": "done",
        "assemble": "done",
    }
    assert [a.task_id for a in record.attempts].count("1-beep") == 1  # not made twice


def test_route_profile_tries_the_candidate_that_passed_before_first(
    stores: Stores, tmp_path: Path
) -> None:
    planner = ScriptedPlanner([plan({"description": "h"})])
    spec = workflow("[broken, echo]", threshold=0.4).replace(
        "supervisors: [revisions]}", "supervisors: [revisions], route: profile}"
    )
    first, _ = run(stores, tmp_path, spec, planner)  # nothing measured: the file's order
    assert [(a.candidate, a.task_type) for a in stores.workflows.get(first).attempts] == [
        ("broken", "beep"),
        ("echo", "beep"),
    ]
    route = stores.workflows.done_steps(first)["make:1-beep:route"]
    assert route["order"] == ["broken", "echo"]
    unseen = "not tried before: estimate 0.50, score 0.50"
    assert [r["reason"] for r in route["ranking"]] == [unseen, unseen]

    lines: list[str] = []
    engine = WorkflowEngine(
        parse_workflow(spec, "beeps.yaml"),
        stores.workflows,
        tmp_path / "runs",
        WorkflowContext(ask=planner),
        lines.append,
    )
    second = stores.workflows.create_run("beeps", "0" * 64, {"input": "x"})
    engine.run(second, "x")
    (only,) = stores.workflows.get(second).attempts  # echo first, accepted: broken not asked
    assert only.candidate == "echo" and CALLS["broken"] == 1
    route = stores.workflows.done_steps(second)["make:1-beep:route"]
    assert route["route"] == "profile" and route["order"] == ["echo", "broken"]
    echo, broken = route["ranking"]
    assert (echo["attempts"], echo["passed"], broken["attempts"], broken["passed"]) == (1, 1, 1, 0)
    assert echo["estimate"] == pytest.approx(2 / 3) and broken["estimate"] == pytest.approx(1 / 3)
    assert (
        "make:1-beep: route profile: echo (1 of 1 tries passed, mean 0.40: estimate 0.67, "
        "score 0.47); broken (0 of 1 tries passed, mean 0.00: estimate 0.33, score 0.33)"
    ) in lines
    # the route checkpoint is part of the sub-task, not a step of the workflow
    kinds = {s.key: s.kind for s in stores.workflows.get(second).steps}
    assert kinds["make:1-beep:route"] == "task"


def test_a_resumed_sub_task_keeps_the_order_it_was_routed_in(
    stores: Stores, tmp_path: Path
) -> None:
    planner = ScriptedPlanner([plan({"description": "i"})])
    spec_text = workflow("[broken, echo]", threshold=0.4).replace(
        "supervisors: [revisions]}", "supervisors: [revisions], route: profile}"
    )
    run(stores, tmp_path, spec_text, planner)  # echo now ranks first
    # a run that was routed broken-first before a crash, and is resumed
    run_id = stores.workflows.create_run("beeps", "0" * 64, {"input": "x"})
    stores.workflows.start_step(run_id, "make:1-beep:route", "task")
    stores.workflows.finish_step(run_id, "make:1-beep:route", {"order": ["broken", "echo"]})
    spec = parse_workflow(spec_text, "beeps.yaml")
    engine = WorkflowEngine(spec, stores.workflows, tmp_path / "runs", WorkflowContext(ask=planner))
    engine.run(run_id, "x")
    assert [a.candidate for a in stores.workflows.get(run_id).attempts] == ["broken", "echo"]


def test_route_rules_follow_the_sub_task_fields(stores: Stores, tmp_path: Path) -> None:
    rules = ", route: rules, rules: [{when: {description: [quiet]}, prefer: [echo]}]"
    spec = workflow("[broken, echo]", threshold=0.4, candidates_per_task=1).replace(
        "supervisors: [revisions]}", f"supervisors: [revisions]{rules}}}"
    )
    planner = ScriptedPlanner([plan({"description": "quiet"}, {"description": "loud"})])
    run_id, _ = run(stores, tmp_path, spec, planner)
    made = {a.task_id: a.candidate for a in stores.workflows.get(run_id).attempts}
    assert made == {"1-beep": "echo", "2-beep": "broken"}  # one candidate each: the first
    done = stores.workflows.done_steps(run_id)
    assert done["make:1-beep:route"]["ranking"][0]["reason"] == (
        "rule 0 (description=['quiet']) prefers it"
    )
    assert done["make:2-beep:route"]["order"] == ["broken", "echo"]
