"""The `symoe_answer` tool: a research sub-question answered by symoe itself, through the
normal planner and recruiter (`WorkflowContext.answer`: tagging, retrieval gate, a recruited
committee, aggregation), written as a text artifact.

The instruction is the sub-question on the first try. A retry's instruction carries the
supervisors' reasons ("<question>\\nRevise: support: ..."), or a refiner's rewrite: the tool
sends the sub-question itself plus a short note made of the latest of them, so tagging and
recruiting still see the question, not a page of review."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from orchestrator.workflows.research.text import write_text_artifact
from orchestrator.workflows.tools import Tool, ToolError
from orchestrator.workflows.types import Artifact, SubTask

NOTE_MAX_CHARS = 240  # a note longer than the question would steer the tagger off it
REVISE = "Revise:"


def shorten(text: str, limit: int) -> str:
    """`text` with its whitespace folded, cut at a word boundary to `limit` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 3].rsplit(" ", 1)[0]
    return f"{cut}..."


def question_and_note(task: SubTask, instruction: str) -> tuple[str, str]:
    """The sub-question (the planner's description; else the instruction's first line) and
    the note a retry adds (the last `Revise:` line, else what the instruction adds to the
    question; empty on a first try)."""
    question = task.description().strip()
    if not question:
        question = instruction.strip().split("\n", 1)[0].strip()
    rest = instruction.strip()
    if rest.startswith(question):
        rest = rest[len(question) :]
    revisions = [line for line in rest.splitlines() if line.strip().startswith(REVISE)]
    if revisions:
        rest = revisions[-1].strip()[len(REVISE) :]
    return question, shorten(rest, NOTE_MAX_CHARS)


def with_note(question: str, note: str) -> str:
    if not note:
        return question
    return f"{question}\n(An earlier answer was judged weak: {note}. Answer with your reasons.)"


class SymoeAnswerTool(Tool):
    name: ClassVar[str] = "symoe_answer"
    handles: ClassVar[tuple[str, ...]] = ("question",)

    def generate(self, task: SubTask, instruction: str, out_dir: Path) -> Artifact:
        if self.context.answer is None:
            raise ToolError("symoe_answer needs the deployment's answering, and none was given")
        question, note = question_and_note(task, instruction)
        if not question:
            raise ToolError(f"sub-task {task.id!r}: no question (its description is empty)")
        try:
            answer = self.context.answer(with_note(question, note))
        except Exception as exc:  # input errors and model failures alike: the tool failed
            raise ToolError(f"symoe could not answer {question[:80]!r}: {exc}") from exc
        if not answer.strip():
            raise ToolError(f"symoe gave an empty answer to {question[:80]!r}")
        meta = {"tool": self.name, "question": question, "note": note, "answer": answer}
        return write_text_artifact(answer, out_dir, meta)
