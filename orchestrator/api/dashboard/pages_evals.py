"""/admin/evals: the runs `symoe eval run` wrote under the eval runs dir (settings
`eval_runs_dir`), newest first and paginated; one run's metrics (accuracy beside the cost of
each stream), its plots and report.md; and /admin/evals/compare, two runs compared as
`symoe eval compare` does. Runs are read from their folders (evals_view.py), never written."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response

from orchestrator.api.dashboard.auth import Viewer, ViewerDep
from orchestrator.api.dashboard.evals_tables import comparison, stream_rows
from orchestrator.api.dashboard.evals_view import (
    RunNotFound,
    RunUnreadable,
    display_split,
    list_runs,
    load_metrics,
    plot_file,
    plot_names,
    report_text,
    run_dir,
    run_names,
)
from orchestrator.api.dashboard.page_numbers import PAGE_SIZE, Pager, parse_page
from orchestrator.api.dashboard.templating import render
from orchestrator.errors import InputError

router = APIRouter(prefix="/admin/evals", include_in_schema=False)
Name = Annotated[str | None, Query(max_length=500)]


def _root(request: Request) -> Path:
    settings = request.app.state.services.settings
    return Path(settings.eval_runs_dir or settings.data_dir / "eval-runs")


def _message(request: Request, who: Viewer, status: int, message: str) -> Response:
    return render(request, "message.html", who, status, title="Evaluation runs", message=message)


@router.get("")
def evals_page(
    request: Request, who: ViewerDep, page: Annotated[str | None, Query(max_length=20)] = None
) -> Response:
    try:
        number = parse_page(page)
    except InputError as exc:
        return _message(request, who, 400, str(exc))
    root = _root(request)
    total, runs = list_runs(root, (number - 1) * PAGE_SIZE, PAGE_SIZE)
    return render(request, "evals.html", who, root=root, runs=runs, pager=Pager(number, total))


# before /{run}: "compare" is this page, not a run's name
@router.get("/compare")
def compare_page(request: Request, who: ViewerDep, a: Name = None, b: Name = None) -> Response:
    root = _root(request)
    names = run_names(root)
    context: dict[str, Any] = {"names": names, "a": a or "", "b": b or "", "rows": None}
    if not a or not b:
        return render(request, "eval_compare.html", who, **context)
    try:
        metrics_a = load_metrics(run_dir(root, a)).metrics
        metrics_b = load_metrics(run_dir(root, b)).metrics
    except RunNotFound as exc:
        return render(request, "eval_compare.html", who, status_code=404, error=str(exc), **context)
    except RunUnreadable as exc:
        return render(request, "eval_compare.html", who, status_code=422, error=str(exc), **context)
    rows, warnings = comparison(metrics_a, metrics_b)
    context |= {"rows": rows, "warnings": warnings}
    return render(request, "eval_compare.html", who, **context)


@router.get("/{run}")
def run_page(request: Request, who: ViewerDep, run: str) -> Response:
    root = _root(request)
    try:
        path = run_dir(root, run)
        loaded = load_metrics(path)
    except RunNotFound as exc:
        return _message(request, who, 404, str(exc))
    except RunUnreadable as exc:
        return _message(request, who, 422, f"eval run {run!r}: {exc}")
    config = loaded.metrics.get("config", {})
    return render(
        request,
        "eval_run.html",
        who,
        run=run,
        config=config,
        split=display_split(config),
        items=loaded.metrics.get("items"),
        seconds=loaded.metrics.get("seconds"),
        finished=loaded.finished,
        rows=stream_rows(loaded.metrics),
        plots=plot_names(path),
        report=report_text(path),
        others=[n for n in run_names(root) if n != run],
    )


@router.get("/{run}/plots/{name}")
def plot(request: Request, who: ViewerDep, run: str, name: str) -> Response:
    try:
        path = plot_file(_root(request), run, name)
    except RunNotFound as exc:
        return _message(request, who, 404, str(exc))
    return FileResponse(path, media_type="image/png")
