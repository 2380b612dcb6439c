"""The eval runs the dashboard shows: every direct subfolder of the eval runs dir that holds
a `symoe eval run` config.json (runner.py's layout), its metrics and its files.

A run is named by its folder's name and nothing else: a name that is not a direct, real
subfolder of the runs dir (a path, `..`, a symlink leading elsewhere) is no run, and a plot
is a PNG file directly in the run's plots/ folder. A run without metrics.json (still running,
or killed) has its metrics computed from its prediction files by `compute_metrics`, the code
that writes metrics.json at the end of `symoe eval run`; they are cached until those files
change."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from orchestrator.api.dashboard.form_errors import error_line
from orchestrator.benchmarks import GENERIC
from orchestrator.errors import SymoeError
from orchestrator.eval.config import EvalConfig, workflow_stream_name
from orchestrator.eval.metrics import compute_metrics

PLOT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.png")
_CACHE_SIZE = 64  # computed metrics of unfinished runs kept in memory


class RunNotFound(Exception):
    """No such run (or a name that is not a direct subfolder); the message says which."""


class RunUnreadable(Exception):
    """The run's config or prediction files do not read as an eval run's."""


@dataclass(frozen=True)
class RunSummary:
    name: str
    benchmark: str
    split: str
    streams: list[str]  # methods, then workflow streams (workflow-<name>)
    items: int | None
    modified: datetime
    accuracy: dict[str, float] = field(default_factory=dict)  # stream -> accuracy_mean
    finished: bool = False  # metrics.json is there
    problem: str | None = None  # why its config or metrics could not be read


@dataclass(frozen=True)
class RunMetrics:
    metrics: dict[str, Any]
    finished: bool  # read from metrics.json; else computed from the predictions so far


def run_dir(root: Path, name: str) -> Path:
    """The folder of run `name`: a direct subfolder of `root` holding a config.json."""
    bare = name not in ("", ".", "..") and "/" not in name and "\\" not in name
    if bare and "\x00" not in name:
        path = root / name
        # resolved, so a symlink pointing out of the runs dir is no run either
        inside = path.is_dir() and path.resolve().parent == root.resolve()
        if inside and (path / "config.json").is_file():
            return path
    raise RunNotFound(f"no eval run {name!r} in {root}")


def run_names(root: Path) -> list[str]:
    """Every run's name, sorted."""
    if not root.is_dir():
        return []
    names = []
    for entry in root.iterdir():
        try:
            run_dir(root, entry.name)
        except RunNotFound:
            continue
        names.append(entry.name)
    return sorted(names)


def list_runs(root: Path, offset: int, limit: int) -> tuple[int, list[RunSummary]]:
    """(how many runs, the summaries of runs offset..offset+limit), newest change first;
    only the shown runs' metrics are read."""
    dated = sorted(
        ((modified(root / n), n) for n in run_names(root)), key=lambda d: (-d[0].timestamp(), d[1])
    )
    page = dated[offset : offset + limit]
    return len(dated), [summary(root / n, when) for when, n in page]


def stream_files(path: Path) -> list[Path]:
    return [
        f
        for sub in ("predictions", "progress")
        if (path / sub).is_dir()
        for f in sorted((path / sub).iterdir())
        if f.is_file()
    ]


def modified(path: Path) -> datetime:
    """The latest change to the run's files."""
    files = [path / n for n in ("config.json", "metrics.json", "report.md")] + stream_files(path)
    stamps = [f.stat().st_mtime for f in files if f.exists()]
    return datetime.fromtimestamp(max(stamps, default=0.0), tz=UTC)


def summary(path: Path, when: datetime) -> RunSummary:
    try:
        raw = json.loads((path / "config.json").read_text())
    except (OSError, ValueError) as exc:
        return RunSummary(path.name, "?", "?", [], None, when, problem=f"config.json: {exc}")
    streams = [*raw.get("methods", []), *map(_stream_name, raw.get("workflows", []))]
    base = RunSummary(
        path.name, str(raw.get("benchmark", "?")), display_split(raw), streams, None, when
    )
    try:
        loaded = load_metrics(path)
    except RunUnreadable as exc:
        return replace(base, problem=str(exc))
    methods = loaded.metrics.get("methods", {})
    accuracy = {n: float(m["accuracy_mean"]) for n, m in methods.items() if "accuracy_mean" in m}
    items = loaded.metrics.get("items")
    return replace(
        base,
        items=items if isinstance(items, int) else None,
        accuracy=accuracy,
        finished=loaded.finished,
    )


def _stream_name(entry: str) -> str:
    try:
        return workflow_stream_name(entry)
    except SymoeError:
        return str(entry)


def display_split(config: dict[str, Any]) -> str:
    """A generic benchmark's split is a file path: its name is what tells runs apart."""
    split = str(config.get("split", "?"))
    return Path(split).name if config.get("benchmark") == GENERIC else split


_cache: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {}
_cache_lock = threading.Lock()


def load_metrics(path: Path) -> RunMetrics:
    """metrics.json, or the same metrics computed from the run's prediction and progress
    files (RunUnreadable when they do not read as an eval run's)."""
    file = path / "metrics.json"
    if file.is_file():
        try:
            return RunMetrics(json.loads(file.read_text()), finished=True)
        except ValueError:
            pass  # torn or hand-edited: computed below like an unfinished run's
    files = stream_files(path)
    signature = tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    key = str(path.resolve())
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == signature:
        return RunMetrics(hit[1], finished=False)
    try:
        config = EvalConfig.model_validate_json((path / "config.json").read_text())
    except (ValidationError, SymoeError, OSError) as exc:
        raise RunUnreadable(f"config.json is not an eval config: {_first(exc)}") from None
    # the run's item count is in the benchmark, not the folder: the longest stream so far
    items = max((_lines(f) for f in files if f.suffix == ".jsonl"), default=0)
    try:
        metrics = compute_metrics(path, config, items, pool=[])
    except (KeyError, TypeError, ValueError, OSError) as exc:  # hand-edited or foreign rows
        raise RunUnreadable(f"its prediction files do not read: {_first(exc)}") from None
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = (signature, metrics)
    return RunMetrics(metrics, finished=False)


def _lines(path: Path) -> int:
    with path.open("rb") as lines:
        return sum(1 for line in lines if line.strip())


def _first(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return error_line(exc)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def plot_names(path: Path) -> list[str]:
    plots = path / "plots"
    if not plots.is_dir():
        return []
    return sorted(p.name for p in plots.iterdir() if PLOT_NAME.fullmatch(p.name))


def plot_file(root: Path, run: str, name: str) -> Path:
    """A PNG directly in the run's plots/ folder; a name or link leading anywhere else is
    RunNotFound."""
    folder = run_dir(root, run)
    path = folder / "plots" / name
    # resolved: a link (the file, or plots/ itself) leading anywhere else is refused
    is_png = PLOT_NAME.fullmatch(name) is not None and path.is_file()
    if is_png and path.resolve().parent == folder.resolve() / "plots":
        return path
    raise RunNotFound(f"no plot {name!r} in eval run {run!r}")


def report_text(path: Path) -> str | None:
    file = path / "report.md"
    return file.read_text(errors="replace") if file.is_file() else None
