"""Scripted experts for the research workflow's tests: one callable plays every role of
research.yaml (told apart by their prompts) and another plays symoe's answering; both record
what they were asked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orchestrator.workflows.service import BUILT_IN
from orchestrator.workflows.spec import WorkflowSpec, load_workflow

RESEARCH_FILE = BUILT_IN / "research.yaml"


def research_spec() -> WorkflowSpec:
    spec, _ = load_workflow(Path(RESEARCH_FILE))
    return spec


def check(consistency: Any, support: Any, reason: str = "fine") -> str:
    return json.dumps({"consistency": consistency, "support": support, "reason": reason})


class ScriptedRoles:
    """The planner, judge, checker and synthesizer of research.yaml. `checks` maps a piece
    of the answer being checked to the checker's output ("*": any other answer), so the
    outputs do not depend on the order parallel sub-tasks ask in."""

    def __init__(
        self,
        questions: list[str],
        checks: dict[str, str],
        final: str = "Both facts together [1] [2]. The answer is (B).",
    ) -> None:
        self.plan = json.dumps(
            {"questions": [{"type": "question", "description": q} for q in questions]}
        )
        self.checks = checks
        self.final = final
        self.asked: list[tuple[str, str, dict[str, Any] | None, int]] = []

    def role_of(self, prompt: str) -> str:
        for marker, role in (
            ("Break this hard question", "planner"),
            ("Check this answer", "checker"),
            ("How well do the sub-questions cover", "judge"),
            ("Here are numbered answers", "synthesizer"),
        ):
            if marker in prompt:
                return role
        raise AssertionError(f"no role asks this: {prompt[:80]!r}")

    def prompts(self, role: str) -> list[str]:
        return [p for _, p, _, _ in self.asked if self.role_of(p) == role]

    def __call__(self, expert: str, prompt: str, schema: dict[str, Any] | None, n: int) -> str:
        self.asked.append((expert, prompt, schema, n))
        role = self.role_of(prompt)
        if role == "planner":
            return self.plan
        if role == "checker":
            answer = prompt.split("\nAnswer: ", 1)[1]
            return next((c for k, c in self.checks.items() if k in answer), self.checks["*"])
        if role == "judge":
            return json.dumps({"score": 0.9, "reason": "covers it"})
        return self.final


class ScriptedAnswering:
    """symoe's answer to a question: `answers` maps a question's start to its answer."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.questions: list[str] = []

    def __call__(self, question: str) -> str:
        self.questions.append(question)
        for start, answer in self.answers.items():
            if question.startswith(start):
                return answer
        raise RuntimeError(f"no expert knows {question!r}")
