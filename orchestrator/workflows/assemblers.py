"""The last step of a workflow: putting the accepted attempts together. Registry ASSEMBLERS,
named by a workflow file's `assembler`; each is built from a `WorkflowContext`."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from orchestrator.errors import ConfigError
from orchestrator.workflows.tools import WorkflowContext
from orchestrator.workflows.types import Attempt, RoleSpec, SubTask
from workers.registry import Registry


class Assembler(ABC):
    name: ClassVar[str] = ""
    needs_roles: ClassVar[tuple[str, ...]] = ()  # workflow roles it asks (checked on load)

    def __init__(
        self, context: WorkflowContext | None = None, roles: dict[str, RoleSpec] | None = None
    ) -> None:
        self.context = context or WorkflowContext()
        self.roles = roles or {}  # the workflow's LLM roles (a synthesis asks its synthesizer)

    @abstractmethod
    def assemble(
        self,
        input_text: str,
        tasks: list[SubTask],
        accepted: dict[str, Attempt],
        artifacts_dir: Path,
    ) -> dict[str, Any]:
        """The run's result (JSON-safe): files it wrote (relative to `artifacts_dir`), text."""


class CollectAssembler(Assembler):
    """Writes the plan and each sub-task's kept attempt as one JSON file."""

    name = "collect"

    def assemble(
        self,
        input_text: str,
        tasks: list[SubTask],
        accepted: dict[str, Attempt],
        artifacts_dir: Path,
    ) -> dict[str, Any]:
        result = {
            "input": input_text,
            "tasks": [
                {**t.model_dump(mode="json"), "kept": accepted[t.id].model_dump(mode="json")}
                for t in tasks
            ],
        }
        (artifacts_dir / "result.json").write_text(json.dumps(result, indent=1) + "\n")
        return {"files": ["result.json"], "tasks": len(tasks)}


ASSEMBLERS: Registry[Assembler] = Registry(
    "workflow assembler",
    {
        CollectAssembler.name: CollectAssembler,
        "soundscape_mix": "orchestrator.workflows.audio.assemble:SoundscapeMix",
        "research_synthesis": "orchestrator.workflows.research.synthesis:ResearchSynthesis",
    },
    error=ConfigError,
)
