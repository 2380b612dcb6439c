"""Accuracy versus cost over the runs of bench/replay_experiment.sh (validation part): one
plot and one table per pool and tagger, with the Pareto front over every method of every
run (each run holds one symoe variant; the baselines come from the run that has them).

Usage: .venv/bin/python bench/replay_pareto.py [ROOT]   (default bench/results/replay)
Writes ROOT/pareto-<pool>-<tagger>.png and prints a Markdown table per group."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from orchestrator.eval.metrics import is_upper_bound, pareto_front
from orchestrator.eval.plots import plot_accuracy_vs_cost


def collect(root: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """group (e.g. v22-category) -> method label -> that method's metrics."""
    groups: dict[str, dict[str, dict[str, Any]]] = {}
    for path in sorted(root.glob("v*/metrics.json")):
        run = path.parent.name
        pool, tagger, *variant = run.split("-")
        group = groups.setdefault(f"{pool}-{tagger}", {})
        for name, metrics in json.loads(path.read_text())["methods"].items():
            label = name if name != "symoe" else f"symoe {'-'.join(variant) or 'symbolic'}"
            group[label] = metrics
    return groups


def table(methods: dict[str, dict[str, Any]]) -> list[str]:
    front = set(pareto_front(methods))
    lines = ["| method | accuracy % | expert calls / question | Pareto |", "|---|---:|---:|:-:|"]
    order = sorted(methods, key=lambda n: -float(methods[n].get("accuracy_mean") or 0.0))
    for name in order:
        m = methods[name]
        mark = "upper bound" if is_upper_bound(name, m) else "yes" if name in front else ""
        calls = m.get("expert_calls_per_question")
        lines.append(
            f"| {name} | {100 * float(m.get('accuracy_mean') or 0.0):.1f} | "
            f"{'-' if calls is None else f'{float(calls):.1f}'} | {mark} |"
        )
    return lines


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/replay")
    groups = collect(root)
    if not groups:
        sys.exit(f"no v*/metrics.json under {root}: run bench/replay_experiment.sh first")
    for group, methods in groups.items():
        plot = plot_accuracy_vs_cost(methods, root / f"pareto-{group}.png")
        print(f"\n### {group} ({plot})\n")
        print("\n".join(table(methods)))


if __name__ == "__main__":
    main()
