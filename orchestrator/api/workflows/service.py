"""What /v1/workflows does, over the deployment's WorkflowService (the same files, engine
and run store as `symoe workflow`), the run store and the executor that runs them.

Runs belong to the key that started them: another user key gets 404 (as if the run did not
exist), an admin key sees every run, including those started with `symoe workflow run`. The
owner is stored in the run's input (`key_id`), which a resume leaves as it is."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from orchestrator.api.errors import ApiError
from orchestrator.api.workflows.executor import WorkflowExecutor
from orchestrator.api.workflows.schemas import (
    ArtifactLink,
    AttemptOut,
    RunCreated,
    RunDetail,
    RunLinks,
    RunStatusEvent,
    StepOut,
    WorkflowInfo,
    WorkflowStepInfo,
)
from orchestrator.db.keys import ApiKeyInfo
from orchestrator.errors import ConfigError, InputError
from orchestrator.workflows.engine import RunStore
from orchestrator.workflows.service import WorkflowService, workflow_files
from orchestrator.workflows.spec import load_workflow
from orchestrator.workflows.types import Artifact, Attempt, StepRecord, WorkflowRunRecord

PREFIX = "/v1/workflows"
# the files workflows write; anything else is served as bytes
MEDIA_TYPES = {
    ".wav": "audio/wav",
    ".png": "image/png",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}


def media_type(path: str) -> str:
    suffix = PurePosixPath(path).suffix.lower()
    return MEDIA_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def run_links(run_id: str) -> RunLinks:
    return RunLinks(self=f"{PREFIX}/runs/{run_id}", events=f"{PREFIX}/runs/{run_id}/events")


def artifact_link(run_id: str, path: str, media: str | None = None) -> ArtifactLink:
    return ArtifactLink(
        path=path,
        media_type=media or media_type(path),
        url=f"{PREFIX}/runs/{run_id}/artifacts/{quote(path)}",
    )


def result_of(record: WorkflowRunRecord) -> dict[str, object] | None:
    """The output of the last step of a succeeded run (sub-task steps are not steps of the
    workflow: they run inside its `tasks` step)."""
    if record.status != "succeeded":
        return None
    last = [s for s in record.steps if s.kind != "task" and s.status == "done"]
    return last[-1].output if last else None


def status_event(record: WorkflowRunRecord) -> RunStatusEvent:
    return RunStatusEvent(
        run_id=record.id, status=record.status, error=record.error, result=result_of(record)
    )


class WorkflowsService:
    def __init__(
        self,
        workflows: Callable[[], WorkflowService],
        store: RunStore,
        executor: WorkflowExecutor,
        runs_dir: Path,
        extra_dir: Path | None = None,
    ) -> None:
        """`workflows` builds the deployment's WorkflowService for each new run."""
        self._workflows = workflows
        self.store = store
        self.executor = executor
        self.runs_dir = runs_dir
        self.extra_dir = extra_dir

    def files(self) -> dict[str, Path]:
        return workflow_files(self.extra_dir)

    def list_workflows(self) -> list[WorkflowInfo]:
        """Every workflow file; one that does not load is listed with its error."""
        listed = []
        for name, path in self.files().items():
            try:
                spec, _ = load_workflow(path)
            except ConfigError as exc:
                listed.append(
                    WorkflowInfo(
                        name=name, description="", input_max_chars=0, steps=[], error=str(exc)
                    )
                )
                continue
            steps = [
                WorkflowStepInfo(name=s.name, kind=s.kind, after=s.after) for s in spec.order()
            ]
            listed.append(
                WorkflowInfo(
                    name=name,
                    description=spec.description,
                    input_max_chars=spec.input_max_chars,
                    steps=steps,
                )
            )
        return listed

    def start(self, caller: ApiKeyInfo, name: str, input_text: str) -> RunCreated:
        """Store a pending run of the workflow and queue it; the input is checked first."""
        files = self.files()
        if name not in files:  # a name only: never a path on the server
            known = ", ".join(files) or "none"
            raise ApiError(
                404,
                f"unknown workflow {name!r} (known: {known})",
                param="name",
                code="unknown_workflow",
            )
        if not self.executor.accepting:
            raise ApiError(503, "the server is stopping", code="server_stopping")
        try:
            run_id, engine = self._workflows().start(name, input_text, extra={"key_id": caller.id})
        except ConfigError as exc:  # the server's file is broken: nothing the client can fix
            raise ApiError(503, str(exc), param="name", code="workflow_unavailable") from None
        except InputError as exc:
            raise ApiError(400, f"input: {exc}", param="input") from None
        try:
            self.executor.submit(run_id, engine, input_text)
        except ApiError as exc:  # stopping since the check above
            self.store.set_status(run_id, "failed", exc.message)
            raise
        return RunCreated(run_id=run_id, status="pending", links=run_links(run_id))

    def owned(self, caller: ApiKeyInfo, run_id: str) -> WorkflowRunRecord:
        """The run if the caller may see it; 404 otherwise (another user's run included)."""
        try:
            record = self.store.get(run_id)
        except InputError:
            record = None
        if record is None or (caller.role != "admin" and record.input.get("key_id") != caller.id):
            raise ApiError(
                404, f"no workflow run {run_id!r}", param="run_id", code="workflow_run_not_found"
            )
        return record

    def detail(self, caller: ApiKeyInfo, run_id: str) -> RunDetail:
        return run_detail(self.owned(caller, run_id))

    def artifact(self, caller: ApiKeyInfo, run_id: str, path: str) -> tuple[Path, str]:
        """The file at `path` under the run's artifact folder and its media type; 404 for
        anything else (a missing file, a folder, a path or link that leads outside)."""
        record = self.owned(caller, run_id)  # the id is a stored one: safe in a path
        folder = (self.runs_dir / record.id / "artifacts").resolve()
        target = (folder / path).resolve()
        if not target.is_relative_to(folder) or not target.is_file():
            raise ApiError(
                404,
                f"run {run_id} has no artifact {path!r}",
                param="path",
                code="artifact_not_found",
            )
        return target, media_type(target.name)


def step_out(step: StepRecord) -> StepOut:
    took = (step.finished_at - step.started_at).total_seconds() if step.finished_at else None
    return StepOut(**step.model_dump(), seconds=took)


def attempt_out(run_id: str, attempt: Attempt) -> AttemptOut:
    found: Artifact | None = attempt.artifact
    link = artifact_link(run_id, found.path, found.media_type) if found else None
    return AttemptOut(**attempt.model_dump(exclude={"artifact"}), artifact=link)


def run_detail(record: WorkflowRunRecord) -> RunDetail:
    result = result_of(record)
    files = result.get("files", []) if result else []
    paths = [f for f in files if isinstance(f, str)] if isinstance(files, list) else []
    attempts = [attempt_out(record.id, a) for a in record.attempts]
    links = {p: artifact_link(record.id, p) for p in paths}
    for attempt in attempts:  # clips are named by their hash: two tries may make one file
        if attempt.artifact is not None:
            links.setdefault(attempt.artifact.path, attempt.artifact)
    return RunDetail(
        id=record.id,
        workflow=record.workflow,
        status=record.status,
        error=record.error,
        input=str(record.input.get("input", "")),
        created_at=record.created_at,
        finished_at=record.finished_at,
        steps=[step_out(s) for s in record.steps],
        attempts=attempts,
        result=result,
        artifacts=list(links.values()),
        links=run_links(record.id),
    )
