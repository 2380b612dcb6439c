"""`symoe workflow`: agent-team workflows (orchestrator/workflows/). `list` the workflow files,
`run` one on an input (a progress line per step), `show` a stored run, `resume` a run that
stopped (a crash, a kill) from its last finished step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer
from rich.table import Table

from orchestrator.cli.common import console, deployment, err_console, friendly_errors, print_json
from orchestrator.errors import InputError
from orchestrator.settings import Settings
from orchestrator.workflows.engine import WorkflowFailed
from orchestrator.workflows.service import workflow_files
from orchestrator.workflows.spec import load_workflow
from orchestrator.workflows.types import WorkflowRunRecord

app = typer.Typer(help="Agent-team workflows: list, run, show, resume.", no_args_is_help=True)


SUBTASK_RUNNERS = ("inprocess", "celery")


def _subtask_runner(name: str | None) -> dict[str, object]:
    """The deployment override `--runner` asks for (none: SYMOE_WORKFLOW_RUNNER)."""
    if name is None:
        return {}
    if name not in SUBTASK_RUNNERS:
        raise InputError(f"unknown --runner {name!r} (known: {', '.join(SUBTASK_RUNNERS)})")
    return {"workflow_runner": name}


RUNNER_HELP = (
    "where sub-tasks run: inprocess (a bounded pool) or celery (`symoe worker --workflows`); "
    "default SYMOE_WORKFLOW_RUNNER"
)


def _say(message: str) -> None:
    err_console.print(message, highlight=False)


@app.command("list")
@friendly_errors
def list_workflows(as_json: bool = typer.Option(False, "--json")) -> None:
    """The workflow files symoe knows (built in), with their steps."""
    rows: list[dict[str, str]] = []
    for name, path in workflow_files(Settings().workflows_dir).items():
        spec, _ = load_workflow(path)
        rows.append(
            {
                "name": name,
                "description": spec.description,
                "steps": " -> ".join(s.name for s in spec.order()),
                "file": str(path),
            }
        )
    if as_json:
        print_json(rows)
        return
    table = Table("workflow", "steps", "description")
    for row in rows:
        table.add_row(row["name"], row["steps"], row["description"])
    console.print(table)


def _input(text: str | None, file: Path | None) -> str:
    if (text is None) == (file is None):
        raise InputError("give the input as --input TEXT or --input-file PATH (one of them)")
    if file is not None:
        try:
            return file.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {file}: {exc}") from None
    return str(text)


@app.command("run")
@friendly_errors
def run(
    name: str = typer.Argument(..., help="a workflow name (`symoe workflow list`) or a YAML file"),
    text: str | None = typer.Option(None, "--input", help="the input"),
    file: Path | None = typer.Option(None, "--input-file", help="the input, from a file"),
    runner: str | None = typer.Option(None, "--runner", help=RUNNER_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run a workflow on an input; the run id is printed first, so a stopped run can be
    resumed with `symoe workflow resume RUN_ID`."""
    input_text = _input(text, file)
    with deployment(**_subtask_runner(runner)) as dep:
        service = dep.workflows()
        run_id, engine = service.start(name, input_text, _say)
        _say(f"run {run_id}")
        _finish(dep.stores.workflows.get, run_id, lambda: engine.run(run_id, input_text), as_json)


@app.command("resume")
@friendly_errors
def resume(
    run_id: str = typer.Argument(...),
    runner: str | None = typer.Option(None, "--runner", help=RUNNER_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Resume a run from its last finished step (finished steps are not run again)."""
    with deployment(**_subtask_runner(runner)) as dep:
        record, engine = dep.workflows().resume(run_id, _say)
        input_text = str(record.input["input"])
        _finish(dep.stores.workflows.get, run_id, lambda: engine.run(run_id, input_text), as_json)


def _finish(
    get: Callable[[str], WorkflowRunRecord],
    run_id: str,
    go: Callable[[], object],
    as_json: bool,
) -> None:
    """Run `go`, then show the run; a failed run shows too, and exits 1."""
    try:
        go()
    except WorkflowFailed as exc:
        _say(f"[red]failed:[/red] {exc}")
        _show(get(run_id), as_json)
        raise typer.Exit(1) from None
    _show(get(run_id), as_json)


@app.command("show")
@friendly_errors
def show(run_id: str = typer.Argument(...), as_json: bool = typer.Option(False, "--json")) -> None:
    """A stored run: its steps, every attempt with its scores, and its result."""
    with deployment() as dep:
        _show(dep.stores.workflows.get(run_id), as_json)


def _show(record: WorkflowRunRecord, as_json: bool) -> None:
    if as_json:
        print_json(record.model_dump(mode="json"))
        return
    console.print(f"run {record.id}: {record.workflow}, {record.status}")
    if record.error:
        console.print(f"error: {record.error}", highlight=False)
    steps = Table("step", "kind", "status", "seconds")
    for s in record.steps:
        took = (s.finished_at - s.started_at).total_seconds() if s.finished_at else None
        steps.add_row(s.key, s.kind, s.status, f"{took:.1f}" if took is not None else "")
    console.print(steps)
    attempts = Table("sub-task", "candidate", "try", "scores", "error")
    for a in record.attempts:
        scores = ", ".join(f"{s.dimension} {s.value:.2f}" for s in a.scores)
        attempts.add_row(a.task_id, a.candidate, str(a.number), scores, a.error or "")
    if record.attempts:
        console.print(attempts)
    routes = Table("sub-task", "route", "order", "why")
    for s in record.steps:
        if s.key.endswith(":route") and s.output:  # a ranked route (routing.py)
            why = "; ".join(f"{r['candidate']}: {r.get('reason', '')}" for r in s.output["ranking"])
            routes.add_row(
                s.key.removesuffix(":route"), s.output["route"], ", ".join(s.output["order"]), why
            )
    if routes.rows:
        console.print(routes)
