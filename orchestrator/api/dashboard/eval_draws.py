"""Draws per benchmark, from evaluation runs: stored API queries carry no benchmark tag, but
every `symoe eval run` folder (evals_view's runs) names its benchmark and split in
config.json, and each row of its predictions/symoe__seed<s>.jsonl names the experts drawn
for that item ("experts", eval/streams.py `prediction_row`). Counting those rows gives, per
benchmark, how often each expert was drawn by the symoe method.

Prediction files can be long, so they are streamed a line at a time and at most ROW_CAP rows
are read per run (the page says which runs were cut short); only the MAX_RUNS most recently
changed runs are read. A run's counts are kept until its prediction files change, so a
finished run is read once per process however often the page's snapshot is retaken."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.api.dashboard.evals_view import display_split, modified, run_names

METHOD = "symoe"  # the method whose draws are counted (the router itself)
ROW_CAP = 20_000  # prediction rows read per run, over all its seeds
MAX_RUNS = 50  # the most recently changed runs read
_CACHE_SIZE = 128


@dataclass(frozen=True)
class CountedRun:
    """One run's symoe streams as counted."""

    name: str
    method: str
    seeds: int  # prediction files read
    rows: int  # prediction rows counted (one per item and seed)
    capped: bool  # ROW_CAP reached: rows beyond it were not read
    draws: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class BenchmarkDraws:
    benchmark: str  # "<benchmark>/<split>"
    runs: list[CountedRun]

    @property
    def draws(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for run in self.runs:
            total.update(run.draws)
        return total

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.runs)

    def share(self, expert: str) -> float:
        draws = self.draws
        total = sum(draws.values())
        return draws[expert] / total if total else 0.0


_cache: dict[str, tuple[tuple[object, ...], CountedRun]] = {}
_cache_lock = threading.Lock()


def benchmark_draws(
    root: Path, cap: int = ROW_CAP, max_runs: int = MAX_RUNS
) -> list[BenchmarkDraws]:
    """Per benchmark and split (most rows first), the symoe draws of the newest `max_runs`
    runs under `root` that ran the symoe method; a run without readable config is skipped."""
    names = sorted(run_names(root), key=lambda n: -modified(root / n).timestamp())[:max_runs]
    grouped: dict[str, list[CountedRun]] = {}
    for name in names:
        path = root / name
        try:
            config = json.loads((path / "config.json").read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(config, dict) or METHOD not in config.get("methods", []):
            continue
        counted = _counted(path, cap)
        if counted.rows:
            key = f"{config.get('benchmark', '?')}/{display_split(config)}"
            grouped.setdefault(key, []).append(counted)
    out = [BenchmarkDraws(b, sorted(runs, key=lambda r: r.name)) for b, runs in grouped.items()]
    return sorted(out, key=lambda b: (-b.rows, b.benchmark))


def _files(path: Path) -> list[Path]:
    folder = path / "predictions"
    return sorted(folder.glob(f"{METHOD}__seed*.jsonl")) if folder.is_dir() else []


def _counted(path: Path, cap: int) -> CountedRun:
    files = _files(path)
    signature = (cap, *((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files))
    key = str(path.resolve())
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == signature:
        return hit[1]
    draws: Counter[str] = Counter()
    rows = 0
    capped = False
    for file in files:
        with file.open("rb") as lines:
            for line in lines:
                if rows >= cap:
                    capped = True
                    break
                experts = _drawn(line)
                if experts is not None:
                    draws.update(experts)
                    rows += 1
        if capped:
            break
    counted = CountedRun(path.name, METHOD, len(files), rows, capped, draws)
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = (signature, counted)
    return counted


def _drawn(line: bytes) -> list[str] | None:
    """A row's drawn experts; None for a blank, torn (killed mid-write) or foreign line."""
    if not line.strip():
        return None
    try:
        row = json.loads(line)
    except ValueError:
        return None
    experts = row.get("experts") if isinstance(row, dict) else None
    if not isinstance(experts, list) or not all(isinstance(e, str) for e in experts):
        return None
    return experts
