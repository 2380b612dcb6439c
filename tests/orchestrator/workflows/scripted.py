"""Scripted tools and a supervisor for workflow tests, registered once in TOOLS and
SUPERVISORS, and a workflow file (`beeps`) that uses them."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

from orchestrator.workflows.tools import SUPERVISORS, TOOLS, Supervisor, Tool
from orchestrator.workflows.types import Artifact, Attempt, Score, SubTask

CALLS: Counter[str] = Counter()  # tool name -> generate calls, across the test
BARRIER: dict[str, threading.Barrier] = {}
CRASHED: set[str] = set()  # sub-tasks that crashed once already


class Crash(BaseException):
    """Not an Exception: escapes the engine as a killed process would, leaving the step
    'running' in the store."""


class EchoTool(Tool):
    """Writes the instruction as a file; the instruction's `Revise` count is the quality."""

    name = "echo"
    handles = ("beep",)

    def generate(self, task: SubTask, instruction: str, out_dir: Path) -> Artifact:
        CALLS[self.name] += 1
        if task.fields.get("crash_on_first") and task.id not in CRASHED:
            CRASHED.add(task.id)
            raise Crash
        if "barrier" in BARRIER:
            BARRIER["barrier"].wait(timeout=10)  # all sub-tasks must be in flight at once
        path = out_dir / f"{task.id}-{CALLS[self.name]}.txt"
        path.write_text(instruction)
        return Artifact(path=path.name, sha256="0" * 64, media_type="text/plain")


class BrokenTool(Tool):
    name = "broken"
    handles = ("beep",)

    def generate(self, task: SubTask, instruction: str, out_dir: Path) -> Artifact:
        CALLS[self.name] += 1
        raise RuntimeError("the synthesiser is out of order")


class HungTool(Tool):
    name = "hung"
    handles = ("beep",)

    def generate(self, task: SubTask, instruction: str, out_dir: Path) -> Artifact:
        CALLS[self.name] += 1
        time.sleep(3)
        raise RuntimeError("never seen: the engine stopped waiting")


class RevisionSupervisor(Supervisor):
    """Scores 0.4 plus 0.3 per `Revise` in the instruction; wants `revisions` of them."""

    name = "revisions"
    dimensions: ClassVar[tuple[str, ...]] = ("quality",)

    def review(self, task: SubTask, attempt: Attempt, artifacts_dir: Path) -> list[Score]:
        text = (artifacts_dir / attempt.artifact.path).read_text() if attempt.artifact else ""
        value = min(0.4 + 0.3 * text.count("Revise"), 1.0)
        return [Score(supervisor=self.name, dimension="quality", value=value, reason="louder")]


for cls in (EchoTool, BrokenTool, HungTool):
    if cls.name not in TOOLS:
        TOOLS.register(cls.name, cls)
if RevisionSupervisor.name not in SUPERVISORS:
    SUPERVISORS.register(RevisionSupervisor.name, RevisionSupervisor)


def workflow(candidates: str = "[echo]", threshold: float = 0.65, **extra: Any) -> str:
    schema = {
        "type": "object",
        "properties": {
            "events": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"type": {"type": "string"}, "description": {"type": "string"}},
                    "required": ["description"],
                },
            }
        },
    }
    options = {"candidates_per_task": 2, "attempts_per_candidate": 2, "timeout_s": 1, **extra}
    return (
        "name: beeps\n"
        "roles:\n"
        "  planner: {expert: scripted-planner, prompt: 'Plan beeps for: {input}', asks: 2}\n"
        f"subtasks:\n  schema: {json.dumps(schema)}\n  items: events\n"
        f"  types:\n    beep: {{candidates: {candidates}, supervisors: [revisions]}}\n"
        f"thresholds: {{quality: {threshold}}}\n"
        + "".join(f"{k}: {v}\n" for k, v in options.items())
        + "assembler: collect\n"
        "steps:\n  - {name: plan, kind: plan}\n  - {name: make, kind: tasks, after: [plan]}\n"
        "  - {name: assemble, kind: assemble, after: [make]}\n"
    )
