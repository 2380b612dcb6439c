"""The eval pages' tables as rows of display strings: each stream's accuracy beside its cost
(as report.md shows them), and the comparison of two runs from `eval.compare` (as `symoe
eval compare` prints it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.eval.compare import compare, config_warnings
from orchestrator.eval.plots import is_upper_bound

_STAGES = ("tag", "experts", "aggregate")


@dataclass(frozen=True)
class StreamRow:
    name: str
    label: str
    upper_bound: bool
    accuracy: str
    per_seed: str
    oracle: str
    unparseable: str
    distinct_models: str
    loads: str
    model_calls: str
    prompt_tokens: str
    completion_tokens: str
    seconds: str


@dataclass(frozen=True)
class CompareRow:
    method: str
    a: str
    b: str
    delta: str
    trend: str  # up, down, same or none: how B moved against A


def stream_rows(metrics: dict[str, Any]) -> list[StreamRow]:
    methods: dict[str, dict[str, Any]] = metrics.get("methods", {})
    rows = []
    for name, m in methods.items():
        seeds: dict[str, float] = m.get("accuracy_per_seed", {})
        loads: dict[str, float] = m.get("loads_per_stage", {})
        rows.append(
            StreamRow(
                name=name,
                label=str(m.get("label") or ""),
                upper_bound=is_upper_bound(name, m),
                accuracy=accuracy(m.get("accuracy_mean"), m.get("accuracy_std")),
                per_seed=", ".join(f"{s}: {pct(v)}" for s, v in seeds.items()),
                oracle=pct(m.get("committee_oracle_mean")),
                unparseable=count(m.get("unparseable_mean")),
                distinct_models=count(m.get("distinct_models")),
                loads=" / ".join(count(loads.get(s, 0)) for s in _STAGES),
                model_calls=count(m.get("model_calls")),
                prompt_tokens=count(m.get("prompt_tokens")),
                completion_tokens=count(m.get("completion_tokens")),
                seconds="-" if m.get("seconds") is None else f"{float(m['seconds']):,.1f}",
            )
        )
    return rows


def comparison(a: dict[str, Any], b: dict[str, Any]) -> tuple[list[CompareRow], list[str]]:
    """Each method's accuracy in A and B and B - A in points, and why the runs may not be
    comparable (config differences)."""
    rows = []
    for row in compare(a, b):
        delta = row.delta
        if delta is None:
            shown = "only in A" if row.acc_b is None else "only in B"
            trend = "none"
        else:
            shown = f"{delta:+.1f}"
            trend = "up" if delta > 0.05 else "down" if delta < -0.05 else "same"
        rows.append(
            CompareRow(
                row.method,
                accuracy(row.acc_a, row.std_a),
                accuracy(row.acc_b, row.std_b),
                shown,
                trend,
            )
        )
    return rows, config_warnings(a, b)


def accuracy(mean: float | None, std: float | None) -> str:
    if mean is None:
        return "-"
    return pct(mean) + (f" ± {pct(std)}" if std else "")


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def count(value: float | None) -> str:
    """A count, or a count averaged over seeds: 1,234 or 2.5."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
