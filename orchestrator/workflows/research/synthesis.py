"""`research_synthesis`: the research workflow's last step. The workflow's synthesizer role
reads the original question and the numbered sub-answers ([1], [2], ... in the plan's
order) and writes the final answer, citing them by number; answer.md records the question,
each sub-question with its kept answer and scores, and the final answer.

The synthesizer's prompt template is filled with {input} (the question) and {tasks} (the
numbered sub-questions and answers). A sub-task whose every try failed keeps its number and
says it has no answer, so the numbers in the final answer and in answer.md agree."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

from orchestrator.errors import ConfigError
from orchestrator.workflows.assemblers import Assembler
from orchestrator.workflows.llm_steps import fill
from orchestrator.workflows.research.text import attempt_text
from orchestrator.workflows.types import Attempt, SubTask

ANSWER_FILE = "answer.md"
SYNTHESIZER = "synthesizer"
SUB_ANSWER_MAX_CHARS = 1200  # each sub-answer the synthesizer reads (small contexts)
_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")  # [2] and [1, 3]


def sub_answer(attempt: Attempt, artifacts_dir: Path) -> str:
    text = attempt_text(attempt, artifacts_dir)
    if text and text.strip():
        return text.strip()
    return f"(no answer: {attempt.error or 'the answer is missing'})"


def numbered_block(questions: list[str], answers: list[str]) -> str:
    """What the synthesizer reads: `[n] Sub-question: ...` and its answer, one per item."""
    return "\n\n".join(
        f"[{n}] Sub-question: {q}\nAnswer: {a[:SUB_ANSWER_MAX_CHARS]}"
        for n, (q, a) in enumerate(zip(questions, answers, strict=True), start=1)
    )


def cited_numbers(text: str, count: int) -> list[int]:
    """The sub-answer numbers (1..count) the text cites as [n] or [n, m], sorted, once each."""
    found = {int(n) for group in _CITATION.findall(text) for n in group.split(",")}
    return sorted(n for n in found if 1 <= n <= count)


def answer_markdown(
    question: str,
    questions: list[str],
    answers: list[str],
    kept: list[Attempt],
    final: str,
) -> str:
    lines = ["# Research answer", "", f"**Question:** {question.strip()}", "", "## Sub-questions"]
    for n, (q, a, attempt) in enumerate(zip(questions, answers, kept, strict=True), start=1):
        scores = ", ".join(f"{s.dimension} {s.value:.2f}" for s in attempt.scores) or "none"
        kept_how = f"*{attempt.candidate}, try {attempt.number}; scores: {scores}*"
        lines += ["", f"### [{n}] {q}", "", a, "", kept_how]
    lines += ["", "## Answer", "", final.strip(), ""]
    return "\n".join(lines)


class ResearchSynthesis(Assembler):
    name = "research_synthesis"
    needs_roles: ClassVar[tuple[str, ...]] = (SYNTHESIZER,)

    def assemble(
        self,
        input_text: str,
        tasks: list[SubTask],
        accepted: dict[str, Attempt],
        artifacts_dir: Path,
    ) -> dict[str, Any]:
        role = self.roles.get(SYNTHESIZER)
        if role is None:
            raise ConfigError(f"assembler {self.name!r} needs roles.{SYNTHESIZER}")
        if self.context.ask is None:
            raise ConfigError(f"assembler {self.name!r} needs experts, and none were given")
        kept = [accepted[t.id] for t in tasks]
        questions = [t.description() or a.instruction for t, a in zip(tasks, kept, strict=True)]
        answers = [sub_answer(a, artifacts_dir) for a in kept]
        prompt = fill(role.prompt, input=input_text, tasks=numbered_block(questions, answers))
        final = self.context.ask(role.expert, prompt, None, role.max_tokens).strip()
        if not final:
            raise ValueError(f"the synthesizer ({role.expert}) wrote an empty answer")
        markdown = answer_markdown(input_text, questions, answers, kept, final)
        (artifacts_dir / ANSWER_FILE).write_text(markdown, encoding="utf-8")
        return {
            "answer": final,
            "files": [ANSWER_FILE],
            "cited": cited_numbers(final, len(tasks)),
        }
