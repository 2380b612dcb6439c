"""The `symoe_answer` tool: the sub-question goes to symoe's answering (with a short note on a
retry), the answer is written as a sha256-named text artifact, and every way it cannot
answer is a ToolError."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from orchestrator.workflows.research.answer_tool import (
    NOTE_MAX_CHARS,
    SymoeAnswerTool,
    question_and_note,
)
from orchestrator.workflows.tools import TOOLS, ToolError, WorkflowContext
from orchestrator.workflows.types import SubTask

from .scripted import ScriptedAnswering

TASK = SubTask(id="1-question", type="question", fields={"description": "What is a mole?"})


def test_the_answer_is_a_text_artifact_named_by_its_hash(tmp_path: Path) -> None:
    answering = ScriptedAnswering({"What is a mole?": "A unit: 6.022e23 particles."})
    tool = TOOLS.create("symoe_answer", WorkflowContext(answer=answering))
    assert isinstance(tool, SymoeAnswerTool) and tool.handles == ("question",)

    artifact = tool.generate(TASK, "What is a mole?", tmp_path)

    assert answering.questions == ["What is a mole?"]  # the first try: the question alone
    digest = hashlib.sha256(b"A unit: 6.022e23 particles.").hexdigest()
    assert (artifact.path, artifact.sha256, artifact.media_type) == (
        f"{digest}.txt",
        digest,
        "text/plain",
    )
    assert (tmp_path / artifact.path).read_text() == "A unit: 6.022e23 particles."
    assert artifact.meta["answer"] == "A unit: 6.022e23 particles."
    assert artifact.meta["question"] == "What is a mole?" and artifact.meta["note"] == ""
    assert [p.name for p in tmp_path.iterdir()] == [artifact.path]  # no temporary left


def test_a_retry_sends_the_question_with_the_latest_reason_as_a_short_note(
    tmp_path: Path,
) -> None:
    answering = ScriptedAnswering({"What is a mole?": "An amount of substance."})
    tool = SymoeAnswerTool(WorkflowContext(answer=answering))
    instruction = (
        "What is a mole?\nRevise: support: no number given\n"
        "Revise: consistency: talks about animals; support: " + "no source " * 60
    )

    artifact = tool.generate(TASK, instruction, tmp_path)

    (sent,) = answering.questions
    question, note = sent.split("\n", 1)
    assert question == "What is a mole?"
    assert "talks about animals" in note and "no number given" not in note
    assert len(artifact.meta["note"]) <= NOTE_MAX_CHARS and artifact.meta["note"].endswith("...")


def test_a_refiners_rewrite_becomes_the_note() -> None:
    question, note = question_and_note(TASK, "Define the mole, the SI unit, with its number.")
    assert question == "What is a mole?"
    assert note == "Define the mole, the SI unit, with its number."
    untitled = SubTask(id="2-question", type="question", fields={})
    assert question_and_note(untitled, "Why is the sky blue?\nRevise: x") == (
        "Why is the sky blue?",
        "x",
    )


def test_no_answering_a_failure_or_an_empty_answer_is_a_tool_error(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="needs the deployment's answering"):
        SymoeAnswerTool(WorkflowContext()).generate(TASK, "What is a mole?", tmp_path)

    failing = SymoeAnswerTool(WorkflowContext(answer=ScriptedAnswering({})))
    with pytest.raises(ToolError, match="symoe could not answer 'What is a mole\\?': no expert"):
        failing.generate(TASK, "What is a mole?", tmp_path)

    empty = SymoeAnswerTool(WorkflowContext(answer=ScriptedAnswering({"What": "  \n"})))
    with pytest.raises(ToolError, match="empty answer"):
        empty.generate(TASK, "What is a mole?", tmp_path)

    blank = SubTask(id="3-question", type="question", fields={"description": " "})
    with pytest.raises(ToolError, match="no question"):
        SymoeAnswerTool(WorkflowContext(answer=ScriptedAnswering({}))).generate(blank, "", tmp_path)
    assert not list(tmp_path.iterdir())  # nothing written for a failed try
