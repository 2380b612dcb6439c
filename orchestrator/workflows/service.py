"""Workflows as a deployment runs them (`symoe workflow`, and later the API): find a workflow
file by name, start a run, resume one, read one. Roles reach the deployment's experts through
the answering service: a role's call is a direct plan (one expert, its prompt as it is, the
sub-task schema as a decoding constraint), so it is traced like any other model call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.answering import AnsweringService
from orchestrator.errors import ConfigError, InputError
from orchestrator.experts import ExpertRegistry
from orchestrator.plan import BatchOptions, DirectPrompt, Query
from orchestrator.workflows.engine import Progress, RunStore, SubtaskRunner, WorkflowEngine
from orchestrator.workflows.spec import WorkflowSpec, load_workflow
from orchestrator.workflows.tools import WorkflowContext
from orchestrator.workflows.types import WorkflowRunRecord
from workers.types import Prompt

BUILT_IN = Path(__file__).resolve().parent.parent / "defaults" / "workflows"


def workflow_files(extra_dir: Path | None = None) -> dict[str, Path]:
    """Workflow name (file stem) -> file: the built-in ones, then `extra_dir`'s (which may
    replace a built-in one of the same name)."""
    found = {p.stem: p for p in sorted(BUILT_IN.glob("*.yaml"))}
    if extra_dir is not None and extra_dir.is_dir():
        found.update({p.stem: p for p in sorted(extra_dir.glob("*.yaml"))})
    return found


class WorkflowService:
    def __init__(
        self,
        store: RunStore,
        runs_dir: Path,
        answering: AnsweringService,
        registry: ExpertRegistry,
        options: BatchOptions,
        extra_dir: Path | None = None,
        subtasks: SubtaskRunner | None = None,
    ) -> None:
        self.store = store
        self.runs_dir = runs_dir
        self.answering = answering
        self.registry = registry
        self.options = options  # how `answer` (a research sub-question) is answered
        self.extra_dir = extra_dir
        self.subtasks = subtasks  # None: sub-tasks on the engine's own thread pool

    def context(self) -> WorkflowContext:
        return WorkflowContext(ask=self.ask, answer=self.answer)

    def ask(self, expert: str, text: str, schema: dict[str, Any] | None, max_tokens: int) -> str:
        params = self.registry.get(expert).generation_params(max_tokens)
        direct = DirectPrompt(
            prompt=Prompt.user(text), params=params.model_copy(update={"json_schema": schema})
        )
        (trace,) = self.answering.answer_direct(Query(text=text), expert, direct).traces
        if trace.error is not None:
            raise RuntimeError(f"expert {expert} failed: {trace.error}")
        return trace.answer

    def answer(self, question: str) -> str:
        (trace,) = self.answering.answer([Query(text=question)], self.options).traces
        if trace.error is not None:
            raise RuntimeError(f"answering {question[:80]!r} failed: {trace.error}")
        return trace.answer

    def load(self, name_or_path: str) -> tuple[str, WorkflowSpec, str, Path]:
        """(name, spec, its SHA-256, file) of a workflow name or a YAML file's path."""
        files = workflow_files(self.extra_dir)
        path = files.get(name_or_path) or Path(name_or_path)
        if name_or_path not in files and not (path.suffix in (".yaml", ".yml") and path.is_file()):
            known = ", ".join(files) or "none"
            raise InputError(f"unknown workflow {name_or_path!r} (known: {known}; or a .yaml file)")
        spec, sha = load_workflow(path)
        return spec.name, spec, sha, path

    def engine(self, spec: WorkflowSpec, progress: Progress | None = None) -> WorkflowEngine:
        return WorkflowEngine(
            spec, self.store, self.runs_dir, self.context(), progress, self.subtasks
        )

    def start(
        self,
        name_or_path: str,
        input_text: str,
        progress: Progress | None = None,
        extra: dict[str, Any] | None = None,
    ) -> tuple[str, WorkflowEngine]:
        """A new run (pending) of the workflow; its input is checked first. `extra` is kept
        with the input (the API stores the key that owns the run)."""
        name, spec, sha, path = self.load(name_or_path)
        engine = self.engine(spec, progress)
        engine.check_input(input_text)
        body = {"input": input_text, "file": str(path), **(extra or {})}
        return self.store.create_run(name, sha, body), engine

    def resume(
        self, run_id: str, progress: Progress | None = None
    ) -> tuple[WorkflowRunRecord, WorkflowEngine]:
        """A stored run and an engine over the same workflow file, unchanged since."""
        record = self.store.get(run_id)
        if record.status == "succeeded":
            raise InputError(f"workflow run {run_id} has finished already")
        _, spec, sha, path = self.load(str(record.input.get("file", record.workflow)))
        if sha != record.spec_sha256:
            raise ConfigError(
                f"{path} changed since run {run_id} started (SHA-256 differs): a resumed run "
                "must run the workflow it started with"
            )
        return record, self.engine(spec, progress)
