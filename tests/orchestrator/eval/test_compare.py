"""Comparing two runs' metrics."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console

from orchestrator.eval.compare import compare, config_warnings, format_comparison


def metrics(accuracies: dict[str, float], **config: Any) -> dict[str, Any]:
    base = {"benchmark": "mmlu_pro", "split": "test", "limit": 50, "seeds": [0, 1]}
    return {
        "config": {**base, **config},
        "items": 50,
        "methods": {
            name: {"accuracy_mean": acc, "accuracy_std": 0.01} for name, acc in accuracies.items()
        },
    }


def render(table: Any) -> str:
    console = Console(width=120, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def test_rows_cover_both_runs_in_order() -> None:
    a = metrics({"symoe": 0.5, "best-single": 0.4, "old": 0.3})
    b = metrics({"new": 0.2, "best-single": 0.45, "symoe": 0.625})
    rows = compare(a, b)
    assert [r.method for r in rows] == ["symoe", "best-single", "old", "new"]
    assert rows[0].delta == pytest.approx(12.5)
    assert rows[1].delta == pytest.approx(5.0)
    assert (rows[2].acc_a, rows[2].acc_b, rows[2].delta) == (0.3, None, None)
    assert (rows[3].acc_a, rows[3].acc_b, rows[3].delta) == (None, 0.2, None)
    assert rows[0].model_dump()["delta"] == pytest.approx(12.5)


def test_same_config_gives_no_warning() -> None:
    assert config_warnings(metrics({"x": 0.5}), metrics({"x": 0.6}, k=5)) == []


def test_config_differences_warn() -> None:
    a = metrics({"x": 0.5})
    b = metrics({"x": 0.6}, split="validation", benchmark="gsm8k")
    b["items"] = 40
    warnings = config_warnings(a, b)
    assert warnings == [
        "benchmark differs: 'mmlu_pro' vs 'gsm8k'",
        "split differs: 'test' vs 'validation'",
        "items differ: 50 vs 40",
    ]


def test_format_comparison_table() -> None:
    a = metrics({"symoe": 0.5, "old": 0.3})
    b = metrics({"symoe": 0.625, "new": 0.2}, split="validation")
    table = format_comparison(compare(a, b), "run-a", "run-b", config_warnings(a, b))
    text = render(table)
    assert "run-a" in text and "run-b" in text
    assert "50.0 ± 1.0" in text and "62.5 ± 1.0" in text
    assert "+12.5" in text
    assert "only in A" in text and "only in B" in text
    assert "warning: split differs" in text
    assert "warning" not in render(format_comparison(compare(a, a), "a", "a"))
