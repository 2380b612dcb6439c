"""The `research_synthesis` assembler: the synthesizer reads the numbered sub-answers,
answer.md holds the question, each sub-question with its answer and the final answer, and
the citations are the numbers of sub-answers that exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import ConfigError
from orchestrator.workflows.assemblers import ASSEMBLERS
from orchestrator.workflows.research.synthesis import cited_numbers
from orchestrator.workflows.research.text import write_text_artifact
from orchestrator.workflows.tools import WorkflowContext
from orchestrator.workflows.types import Attempt, Score, SubTask

from .scripted import ScriptedRoles, research_spec

QUESTION = "Why does ice float? The options are: (A) it is heavier (B) it is less dense"
TASKS = [
    SubTask(id="1-question", type="question", fields={"description": "How dense is ice?"}),
    SubTask(id="2-question", type="question", fields={"description": "How dense is water?"}),
    SubTask(id="3-question", type="question", fields={"description": "What floats?"}),
]


def accepted(folder: Path) -> dict[str, Attempt]:
    kept = {}
    for task, answer in zip(TASKS[:2], ["About 0.92 g/cm3.", "About 1.00 g/cm3."], strict=True):
        artifact = write_text_artifact(answer, folder, {"answer": answer})
        score = Score(supervisor="llm_check", dimension="support", value=0.75)
        kept[task.id] = Attempt(
            task_id=task.id,
            candidate="symoe_answer",
            number=2,
            instruction="x",
            artifact=artifact,
            scores=[score],
        )
    kept["3-question"] = Attempt(
        task_id="3-question", candidate="symoe_answer", number=1, instruction="x",
        error="symoe_answer timed out after 600 s",
    )  # fmt: skip
    return kept


def test_the_final_answer_cites_the_numbered_sub_answers(tmp_path: Path) -> None:
    roles = ScriptedRoles(
        [], {}, final="Ice is less dense [1] than water [2, 7]. The answer is (B)."
    )
    spec = research_spec()
    assembler = ASSEMBLERS.create("research_synthesis", WorkflowContext(ask=roles), spec.roles)

    result = assembler.assemble(QUESTION, TASKS, accepted(tmp_path), tmp_path)

    assert result == {
        "answer": "Ice is less dense [1] than water [2, 7]. The answer is (B).",
        "files": ["answer.md"],
        "cited": [1, 2],  # [7] names no sub-answer
    }
    ((expert, prompt, schema, max_tokens),) = roles.asked
    synthesizer = spec.roles["synthesizer"]
    assert (expert, schema, max_tokens) == (synthesizer.expert, None, synthesizer.max_tokens)
    assert f"Question: {QUESTION}" in prompt
    assert "[1] Sub-question: How dense is ice?\nAnswer: About 0.92 g/cm3." in prompt
    assert "[2] Sub-question: How dense is water?\nAnswer: About 1.00 g/cm3." in prompt
    assert "[3] Sub-question: What floats?\nAnswer: (no answer: symoe_answer timed out" in prompt

    markdown = (tmp_path / "answer.md").read_text()
    assert markdown.index(QUESTION) < markdown.index("### [1] How dense is ice?")
    assert markdown.index("### [1] How dense is ice?") < markdown.index("About 0.92 g/cm3.")
    assert markdown.index("### [3] What floats?") < markdown.index("## Answer")
    assert "symoe_answer, try 2; scores: support 0.75" in markdown
    assert markdown.rstrip().endswith("The answer is (B).")


def test_citations_are_read_in_their_usual_forms() -> None:
    assert cited_numbers("[2] and [1,3] but not [0], [4] or [x]", 3) == [1, 2, 3]
    assert cited_numbers("no citations", 3) == []


def test_it_needs_a_synthesizer_and_a_non_empty_answer(tmp_path: Path) -> None:
    roles = {k: v for k, v in research_spec().roles.items() if k != "synthesizer"}
    assembler = ASSEMBLERS.create(
        "research_synthesis", WorkflowContext(ask=ScriptedRoles([], {})), roles
    )
    with pytest.raises(ConfigError, match=r"needs roles\.synthesizer"):
        assembler.assemble(QUESTION, TASKS, accepted(tmp_path), tmp_path)

    silent = ScriptedRoles([], {}, final="  ")
    assembler = ASSEMBLERS.create(
        "research_synthesis", WorkflowContext(ask=silent), research_spec().roles
    )
    with pytest.raises(ValueError, match="wrote an empty answer"):
        assembler.assemble(QUESTION, TASKS, accepted(tmp_path), tmp_path)
    assert not (tmp_path / "answer.md").exists()
