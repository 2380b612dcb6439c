"""The extension points of a workflow's generation and supervisor teams.

A `Tool` makes an artifact for a sub-task from an instruction (espeak-ng speech, numpy sound
effects, an LLM expert...); a `Supervisor` scores an attempt on its dimensions. A supervisor
may measure (a clip's duration, its loudness) or judge (an LLM). Registries: TOOLS and
SUPERVISORS, which workflow files name; entries load on first use. Each is built from a
`WorkflowContext`; a supervisor also gets the workflow's roles (an LLM supervisor asks the
expert of one of them)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from orchestrator.errors import ConfigError
from orchestrator.workflows.types import Artifact, Attempt, RoleSpec, Score, SubTask
from workers.registry import Registry


class ToolError(RuntimeError):
    """A tool could not make its artifact; the engine tries the next candidate."""


# (expert, prompt text, JSON schema or None, max tokens) -> the expert's text
AskExpert = Callable[[str, str, dict[str, Any] | None, int], str]
# a question -> symoe's answer to it (tagging, recruiting, aggregation)
AnswerQuestion = Callable[[str], str]


@dataclass(frozen=True)
class WorkflowContext:
    """What tools and supervisors may use besides their inputs: the deployment's experts.
    Tools that need no model (espeak-ng, numpy synthesis, measurements) ignore it."""

    ask: AskExpert | None = None
    answer: AnswerQuestion | None = None


class Tool(ABC):
    name: ClassVar[str] = ""
    handles: ClassVar[tuple[str, ...]] = ()  # the sub-task types it can make

    def __init__(self, context: WorkflowContext | None = None) -> None:
        self.context = context or WorkflowContext()

    @abstractmethod
    def generate(self, task: SubTask, instruction: str, out_dir: Path) -> Artifact:
        """Make the artifact under `out_dir`; raise ToolError when it cannot."""


class Supervisor(ABC):
    name: ClassVar[str] = ""
    dimensions: ClassVar[tuple[str, ...]] = ()
    needs_roles: ClassVar[tuple[str, ...]] = ()  # workflow roles it asks (checked on load)

    def __init__(
        self, context: WorkflowContext | None = None, roles: dict[str, RoleSpec] | None = None
    ) -> None:
        self.context = context or WorkflowContext()
        self.roles = roles or {}  # the workflow's LLM roles (llm_check asks its judge's expert)

    @abstractmethod
    def review(self, task: SubTask, attempt: Attempt, artifacts_dir: Path) -> list[Score]:
        """One score per dimension it checks, each with the reason a rewrite can use."""


_AUDIO = "orchestrator.workflows.audio"
_RESEARCH = "orchestrator.workflows.research"
TOOLS: Registry[Tool] = Registry(
    "workflow tool",
    {
        "espeak": f"{_AUDIO}.espeak:EspeakTool",
        "numpy_sfx": f"{_AUDIO}.sfx:NumpySfxTool",
        "numpy_music": f"{_AUDIO}.music:NumpyMusicTool",
        "symoe_answer": f"{_RESEARCH}.answer_tool:SymoeAnswerTool",
    },
    error=ConfigError,
)
SUPERVISORS: Registry[Supervisor] = Registry(
    "workflow supervisor",
    {
        "duration": f"{_AUDIO}.supervisors:DurationSupervisor",
        "loudness": f"{_AUDIO}.supervisors:LoudnessSupervisor",
        "signal": f"{_AUDIO}.supervisors:SignalSupervisor",
        "llm_check": f"{_RESEARCH}.check:LlmCheckSupervisor",
    },
    error=ConfigError,
)
