"""The `llm_check` supervisor: it asks the judge role's expert with a JSON schema, clamps the
scores to [0, 1], scores unparseable output 0 with the raw text in the reason, and is
refused without a judge role."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.errors import ConfigError
from orchestrator.workflows.research.check import CHECK_SCHEMA, LlmCheckSupervisor, parse_check
from orchestrator.workflows.research.text import write_text_artifact
from orchestrator.workflows.tools import SUPERVISORS, WorkflowContext
from orchestrator.workflows.types import Attempt, SubTask

from .scripted import ScriptedRoles, check, research_spec

TASK = SubTask(id="1-question", type="question", fields={"description": "What is a mole?"})


def attempt_with(answer: str, folder: Path) -> Attempt:
    artifact = write_text_artifact(answer, folder, {"answer": answer})
    return Attempt(
        task_id=TASK.id, candidate="symoe_answer", number=1, instruction="x", artifact=artifact
    )


def review(output: str, tmp_path: Path) -> tuple[ScriptedRoles, dict[str, Any]]:
    roles = ScriptedRoles(["q1?", "q2?"], {"*": output})
    spec = research_spec()
    supervisor = SUPERVISORS.create("llm_check", WorkflowContext(ask=roles), spec.roles)
    scores = supervisor.review(
        TASK, attempt_with("6.022e23 particles, Avogadro.", tmp_path), tmp_path
    )
    return roles, {s.dimension: (s.value, s.reason, s.supervisor) for s in scores}


def test_the_judge_expert_scores_with_a_schema(tmp_path: Path) -> None:
    roles, scores = review(check(0.8, 0.4, "no source for the number"), tmp_path)
    assert scores == {
        "consistency": (0.8, "no source for the number", "llm_check"),
        "support": (0.4, "no source for the number", "llm_check"),
    }
    ((expert, prompt, schema, max_tokens),) = roles.asked
    judge = research_spec().roles["judge"]
    assert (expert, schema, max_tokens) == (judge.expert, CHECK_SCHEMA, judge.max_tokens)
    assert "Question: What is a mole?" in prompt
    assert "Answer: 6.022e23 particles, Avogadro." in prompt


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (check(1.7, -0.2), (1.0, 0.0)),  # clamped
        (check(1, 0), (1.0, 0.0)),  # integers are numbers
        (check(0.25, 0.5), (0.25, 0.5)),
    ],
)
def test_scores_are_clamped_to_the_unit_interval(
    output: str, expected: tuple[float, float]
) -> None:
    assert parse_check(output)[:2] == expected


@pytest.mark.parametrize(
    "output",
    [
        "The answer looks fine to me.",
        '{"consistency": 0.9}',  # support missing
        '{"consistency": "high", "support": 0.5, "reason": ""}',
        '{"consistency": true, "support": 0.5, "reason": ""}',
        '{"consistency": NaN, "support": 0.5, "reason": ""}',
        "[0.9, 0.9]",
        '{"consistency": 0.9, "support": 0.',  # cut off by max_tokens
    ],
)
def test_unparseable_output_scores_zero_with_the_raw_output(output: str, tmp_path: Path) -> None:
    _, scores = review(output, tmp_path)
    assert {d: v for d, (v, _, _) in scores.items()} == {"consistency": 0.0, "support": 0.0}
    reason = scores["support"][1]
    assert reason.startswith("the checker's output was not a score:") and repr(output) in reason


def test_no_answer_scores_zero_without_asking(tmp_path: Path) -> None:
    roles = ScriptedRoles(["q1?", "q2?"], {"*": check(1, 1)})
    supervisor = LlmCheckSupervisor(WorkflowContext(ask=roles), research_spec().roles)
    failed = Attempt(
        task_id=TASK.id, candidate="symoe_answer", number=1, instruction="x", error="it broke"
    )
    scores = supervisor.review(TASK, failed, tmp_path)
    assert [(s.value, s.reason) for s in scores] == [(0.0, "no answer to check (it broke)")] * 2
    assert roles.asked == []


def test_a_failing_checker_scores_zero_and_the_run_goes_on(tmp_path: Path) -> None:
    def broken(expert: str, prompt: str, schema: dict[str, Any] | None, n: int) -> str:
        raise RuntimeError("expert smollm2-135m failed: out of memory")

    supervisor = LlmCheckSupervisor(WorkflowContext(ask=broken), research_spec().roles)
    scores = supervisor.review(TASK, attempt_with("an answer", tmp_path), tmp_path)
    assert [s.value for s in scores] == [0.0, 0.0]
    assert "out of memory" in scores[0].reason


def test_without_a_judge_role_it_is_refused() -> None:
    roles = {k: v for k, v in research_spec().roles.items() if k != "judge"}
    with pytest.raises(ConfigError, match=r"'llm_check' needs roles\.judge"):
        SUPERVISORS.create("llm_check", WorkflowContext(), roles)
    assert SUPERVISORS.get("llm_check").dimensions == ("consistency", "support")
