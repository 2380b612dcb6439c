"""Compare two eval runs method by method: `symoe eval compare A B`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, computed_field
from rich.table import Table

# Config keys that make two runs' accuracies incomparable when they differ.
_CONFIG_KEYS = ("benchmark", "split", "limit", "seeds")


class ComparisonRow(BaseModel):
    """One method's accuracy (fractions) in run A and run B; None where a run lacks it."""

    method: str
    acc_a: float | None
    acc_b: float | None
    std_a: float | None = None
    std_b: float | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def delta(self) -> float | None:
        """B minus A, in percentage points."""
        if self.acc_a is None or self.acc_b is None:
            return None
        return 100 * (self.acc_b - self.acc_a)


def compare(metrics_a: dict[str, Any], metrics_b: dict[str, Any]) -> list[ComparisonRow]:
    """A row per method of either run: A's methods in A's order, then those only in B."""
    a: dict[str, dict[str, Any]] = metrics_a.get("methods", {})
    b: dict[str, dict[str, Any]] = metrics_b.get("methods", {})
    rows = []
    for name in [*a, *(n for n in b if n not in a)]:
        ma, mb = a.get(name, {}), b.get(name, {})
        rows.append(
            ComparisonRow(
                method=name,
                acc_a=ma.get("accuracy_mean"),
                acc_b=mb.get("accuracy_mean"),
                std_a=ma.get("accuracy_std"),
                std_b=mb.get("accuracy_std"),
            )
        )
    return rows


def config_warnings(metrics_a: dict[str, Any], metrics_b: dict[str, Any]) -> list[str]:
    """One line per config difference that makes the runs incomparable (benchmark, split,
    limit, seeds, number of items)."""
    ca, cb = metrics_a.get("config", {}), metrics_b.get("config", {})
    warnings = [
        f"{key} differs: {ca.get(key)!r} vs {cb.get(key)!r}"
        for key in _CONFIG_KEYS
        if ca.get(key) != cb.get(key)
    ]
    if metrics_a.get("items") != metrics_b.get("items"):
        warnings.append(f"items differ: {metrics_a.get('items')} vs {metrics_b.get('items')}")
    return warnings


def format_comparison(
    rows: Sequence[ComparisonRow], name_a: str, name_b: str, warnings: Sequence[str] = ()
) -> Table:
    """A rich table of accuracies (%) and B - A in points; `warnings` go in the caption."""
    table = Table(title=f"Accuracy: {name_a} vs {name_b}")
    table.add_column("method")
    table.add_column(f"A: {name_a}", justify="right")
    table.add_column(f"B: {name_b}", justify="right")
    table.add_column("B - A (points)", justify="right")
    for row in rows:
        table.add_row(
            row.method,
            _accuracy(row.acc_a, row.std_a),
            _accuracy(row.acc_b, row.std_b),
            _delta(row.delta, row),
        )
    if warnings:
        table.caption = "\n".join(f"[yellow]warning: {w}[/yellow]" for w in warnings)
    return table


def _accuracy(acc: float | None, std: float | None) -> str:
    if acc is None:
        return "[dim]-[/dim]"
    return f"{100 * acc:.1f}" + (f" ± {100 * std:.1f}" if std else "")


def _delta(delta: float | None, row: ComparisonRow) -> str:
    if delta is None:
        if row.acc_a is None and row.acc_b is None:
            return "[dim]-[/dim]"
        return "[dim]only in A[/dim]" if row.acc_b is None else "[dim]only in B[/dim]"
    color = "green" if delta > 0.05 else "red" if delta < -0.05 else "dim"
    return f"[{color}]{delta:+.1f}[/{color}]"
