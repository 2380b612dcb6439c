"""research.yaml run by the real engine over the real run store (SQLite), with scripted
roles and a scripted symoe: the planner's sub-questions are answered, a weak sub-answer is
asked again once with the checker's reason, and the synthesis cites the sub-answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from orchestrator.db import Stores, make_engine, migrate, session_factory
from orchestrator.errors import ConfigError
from orchestrator.workflows.engine import WorkflowEngine
from orchestrator.workflows.spec import parse_workflow
from orchestrator.workflows.tools import WorkflowContext

from .scripted import RESEARCH_FILE, ScriptedAnswering, ScriptedRoles, check, research_spec

QUESTION = "Why does ice float on water?"


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Stores]:
    engine = make_engine(f"sqlite:///{tmp_path / 'symoe.db'}")
    migrate(engine)
    yield Stores(session_factory(engine))
    engine.dispose()


def test_research_answers_checks_refines_and_synthesises(stores: Stores, tmp_path: Path) -> None:
    roles = ScriptedRoles(
        ["How dense is ice?", "How dense is water?"],
        {"about 0.92": check(0.9, 0.8), "Water is wet": check(0.7, 0.2, "no density given"),
         "1.00 g/cm3": check(1.0, 0.9), "*": check(0, 0)},
    )  # fmt: skip
    answering = ScriptedAnswering(
        {
            "How dense is ice?": "Ice is about 0.92 g/cm3.",
            "How dense is water?\n": "Liquid water is about 1.00 g/cm3.",  # the retry
            "How dense is water?": "Water is wet.",
        }
    )
    spec = research_spec()
    context = WorkflowContext(ask=roles, answer=answering)
    engine = WorkflowEngine(spec, stores.workflows, tmp_path / "runs", context)
    run_id = stores.workflows.create_run("research", "0" * 64, {"input": QUESTION})

    outputs = engine.run(run_id, QUESTION)

    record = stores.workflows.get(run_id)
    assert record.status == "succeeded"
    (plan_prompt,) = roles.prompts("planner")
    assert plan_prompt.endswith(f"Question: {QUESTION}\n")
    assert roles.asked[0][2] == spec.subtasks.json_schema  # the plan is schema-constrained
    tries = {(a.task_id, a.number): a for a in record.attempts}
    assert sorted(tries) == [("1-question", 1), ("2-question", 1), ("2-question", 2)]
    assert tries[("2-question", 2)].instruction == (
        "How dense is water?\nRevise: support: no density given"
    )
    assert sorted(answering.questions) == [
        "How dense is ice?",
        "How dense is water?",
        "How dense is water?\n(An earlier answer was judged weak: support: no density given. "
        "Answer with your reasons.)",
    ]
    assert outputs["judge"]["scores"][0]["value"] == 0.9
    assert outputs["synthesize"]["cited"] == [1, 2]
    answer_md = (tmp_path / "runs" / run_id / "artifacts" / "answer.md").read_text()
    assert "### [2] How dense is water?\n\nLiquid water is about 1.00 g/cm3." in answer_md
    assert "Water is wet." not in answer_md  # the retry's answer was accepted


def test_a_workflow_with_llm_check_but_no_judge_is_refused_before_any_model_runs(
    stores: Stores, tmp_path: Path
) -> None:
    raw = yaml.safe_load(RESEARCH_FILE.read_text())
    del raw["roles"]["judge"]
    raw["steps"] = [s for s in raw["steps"] if s["kind"] != "judge"]
    raw["steps"][-1]["after"] = ["answer"]
    with pytest.raises(
        ConfigError,
        match=r"^research.yaml: roles: supervisor 'llm_check' of subtasks.types.question "
        r"needs roles\.judge",
    ):
        parse_workflow(yaml.safe_dump(raw), "research.yaml")


def test_a_workflow_whose_assembler_writes_with_no_synthesizer_is_refused_on_load() -> None:
    raw = yaml.safe_load(RESEARCH_FILE.read_text())
    del raw["roles"]["synthesizer"]
    with pytest.raises(
        ConfigError,
        match=r"^research.yaml: roles: assembler 'research_synthesis' needs roles\.synthesizer",
    ):
        parse_workflow(yaml.safe_dump(raw), "research.yaml")
