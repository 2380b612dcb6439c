"""Accuracy versus cost: expert calls per question and models per batch in metrics.json,
the Pareto front of the methods, its plot and its report section, from a run directory
written by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.eval.config import EvalConfig
from orchestrator.eval.metrics import compute_metrics, pareto_front
from orchestrator.eval.plots import plot_accuracy_vs_cost
from orchestrator.eval.report import render_markdown, write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ITEMS = 4
# keys compute_metrics wrote before the cost ones: other code and the dashboard read them
OLD_KEYS = {"accuracy_mean", "accuracy_std", "accuracy_per_seed", "committee_oracle_mean",
            "unparseable_mean", "items", "model_calls", "prompt_tokens", "completion_tokens",
            "seconds", "loads_per_stage", "retrieval_rate", "retrieval_prompt_tokens",
            "search_seconds", "distinct_models", "per_category", "experts_per_category",
            "label"}  # fmt: skip


def point(accuracy: float, calls: float | None, label: str = "") -> dict[str, Any]:
    return {"accuracy_mean": accuracy, "expert_calls_per_question": calls, "label": label}


# -- the front, by hand ------------------------------------------------------------------------
def test_a_dominated_method_is_off_the_front() -> None:
    methods = {
        "a": point(0.6, 3),
        "b": point(0.5, 3),  # as costly as a, less accurate
        "c": point(0.7, 5),
        "d": point(0.5, 6),  # less accurate than a and c, costlier than both
        "e": point(0.3, 1),  # least accurate, but cheapest: on the front
    }
    assert pareto_front(methods) == ["e", "a", "c"]


def test_ties_stay_on_the_front_and_equal_accuracy_at_more_cost_does_not() -> None:
    methods = {
        "a": point(0.6, 3),
        "b": point(0.6, 3),  # the same point as a: neither is better on either
        "c": point(0.6, 4),  # as accurate as a and b, costlier
        "d": point(0.4, 2),
        "e": point(0.4, 2.5),  # as accurate as d, costlier
    }
    assert pareto_front(methods) == ["d", "a", "b"]


def test_upper_bounds_and_uncounted_streams_are_never_on_the_front() -> None:
    methods = {
        "oracle": point(0.9, 1),  # would dominate everything
        "cheat": point(0.95, 0.5, label="Upper bound: knows the answer"),
        "symoe": point(0.5, 3),
        "best-single": point(0.4, 3),
        "workflow-research": point(0.99, None),  # its calls were not counted
    }
    assert pareto_front(methods) == ["symoe"]
    assert pareto_front({"oracle": point(0.9, 1)}) == []
    assert pareto_front({}) == []


# -- metrics of a run directory --------------------------------------------------------------
def write_stream(
    out: Path,
    stem: str,
    rows: list[tuple[bool, list[str]]],
    loads: dict[str, int] | None = None,
    **extra: Any,
) -> None:
    """A stream's predictions (one row per (correct, experts drawn)) and, given its loads,
    its progress file; `extra` goes into every row."""
    (out / "predictions").mkdir(parents=True, exist_ok=True)
    workflow = stem.startswith("workflow-")
    lines = []
    for i, (correct, experts) in enumerate(rows):
        row = {"item_id": str(i), "category": "math" if i % 2 else "law", "gold": "A",
               "pred": "A" if correct else "B", "correct": correct,
               "any_correct": None if workflow else correct, "experts": experts,
               "prompt_tokens": 10, "completion_tokens": 2,
               "model_calls": len(experts) + 1}  # fmt: skip
        lines.append(json.dumps({**row, **extra}))
    (out / "predictions" / f"{stem}.jsonl").write_text("".join(x + "\n" for x in lines))
    if loads is not None:
        (out / "progress").mkdir(parents=True, exist_ok=True)
        stats = {"seconds": 1.5, "model_calls": 9, "loads_per_stage": loads}
        (out / "progress" / f"{stem}.json").write_text(json.dumps(stats))


@pytest.fixture
def run_dir(tmp_path: Path) -> tuple[Path, EvalConfig]:
    """Four items in batches of two (two batches per stream):
    symoe, seeds 0 and 1: 3 and 2 right, 9 expert calls per seed (2.25 per question); its
    experts stage loaded 6 and 4 models (3 and 2 per batch);
    best-single (deterministic, seed 0 only): 2 right, 1 call per question, 2 loads;
    random-k, seed 0 only: 1 right; 3 experts drawn, 1 called (a cascade's "expert_calls"):
    as cheap as best-single and less accurate, so off the front;
    oracle: all right, 3 calls per question, an upper bound;
    workflow-research: all right, its experts listed once each, no call count."""
    out = tmp_path / "run"
    config = EvalConfig(
        benchmark="mmlu_pro",
        split="test",
        methods=["symoe", "best-single", "random-k", "oracle"],
        seeds=[0, 1],
        experts_file="experts.yaml",
        workflows=["research"],
    )
    loads = {"tag": 1, "experts": 6, "aggregate": 0}
    write_stream(out, "symoe__seed0", [(True, ["a", "b", "c"]), (True, ["a", "a", "b"]),
                                       (True, ["a"]), (False, ["b", "c"])], loads)  # fmt: skip
    write_stream(out, "symoe__seed1", [(True, ["a", "b"]), (False, ["a", "b"]),
                                       (True, ["a", "b"]), (False, ["a", "b", "c"])],
                 {**loads, "experts": 4})  # fmt: skip
    write_stream(out, "best-single__seed0", [(i < 2, ["a"]) for i in range(ITEMS)],
                 {"tag": 1, "experts": 2})  # fmt: skip
    write_stream(out, "random-k__seed0", [(i < 1, ["a", "b", "c"]) for i in range(ITEMS)],
                 {"tag": 1, "experts": 4}, expert_calls=1)  # fmt: skip
    write_stream(out, "oracle__seed0", [(True, ["a", "b", "c"])] * ITEMS, {"experts": 6})
    write_stream(out, "workflow-research__seed0", [(True, ["a", "b"])] * ITEMS, {"experts": 5})
    return out, config


def test_cost_keys_and_pareto_of_a_run(run_dir: tuple[Path, EvalConfig]) -> None:
    out, config = run_dir
    metrics = compute_metrics(out, config, ITEMS, ["a", "b", "c"], chunk=2)
    methods: dict[str, dict[str, Any]] = metrics["methods"]  # type: ignore[assignment]
    for name, m in methods.items():
        assert set(m) >= OLD_KEYS, name
    symoe = methods["symoe"]
    assert symoe["accuracy_mean"] == pytest.approx(0.625)
    assert symoe["expert_calls_per_question"] == pytest.approx(2.25)
    assert symoe["models_per_batch"] == pytest.approx(2.5)  # (6 / 2 + 4 / 2) / 2
    assert symoe["models_per_batch_basis"] == "loads"
    assert symoe["distinct_models"] == pytest.approx(3.0)  # unchanged: per seed, all stream
    assert methods["best-single"]["expert_calls_per_question"] == pytest.approx(1.0)
    assert methods["best-single"]["models_per_batch"] == pytest.approx(1.0)
    # a row's own count of expert calls wins over its drawn experts
    assert methods["random-k"]["expert_calls_per_question"] == pytest.approx(1.0)
    assert methods["oracle"]["expert_calls_per_question"] == pytest.approx(3.0)
    workflow = methods["workflow-research"]
    assert workflow["expert_calls_per_question"] is None
    assert (workflow["models_per_batch"], workflow["models_per_batch_basis"]) == (2.0, "distinct")
    assert metrics["chunk"] == 2
    # random-k: as cheap as best-single, less accurate; oracle: an upper bound
    assert metrics["pareto"] == ["best-single", "symoe"]


def test_without_the_batch_size_models_per_batch_is_the_distinct_experts(
    run_dir: tuple[Path, EvalConfig],
) -> None:
    out, config = run_dir
    metrics = compute_metrics(out, config, ITEMS, ["a", "b", "c"])
    methods: dict[str, dict[str, Any]] = metrics["methods"]  # type: ignore[assignment]
    for m in methods.values():
        assert m["models_per_batch"] == m["distinct_models"]
        assert m["models_per_batch_basis"] == "distinct"
    assert metrics["chunk"] is None
    assert metrics["pareto"] == ["best-single", "symoe"]


def test_a_stream_not_run_has_no_call_count(tmp_path: Path) -> None:
    config = EvalConfig(
        benchmark="mmlu_pro", split="test", methods=["symoe"], experts_file="experts.yaml"
    )
    metrics = compute_metrics(tmp_path, config, ITEMS, ["a"], chunk=2)
    symoe = metrics["methods"]["symoe"]  # type: ignore[index]
    assert symoe["expert_calls_per_question"] is None
    assert metrics["pareto"] == []


# -- the plot and the report -----------------------------------------------------------------
def test_the_report_writes_the_cost_plot_and_section(run_dir: tuple[Path, EvalConfig]) -> None:
    out, config = run_dir
    metrics: dict[str, Any] = compute_metrics(out, config, ITEMS, ["a", "b", "c"], chunk=2)
    written = write_report(out, metrics)
    plot = out / "plots" / "accuracy_vs_cost.png"
    assert plot in written
    data = plot.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1024
    report = (out / "report.md").read_text()
    lines = report.splitlines()
    section = lines.index("## Accuracy versus cost")
    assert lines[section + 2] == (
        "| Method | Accuracy (%) | Expert calls / question | Models / batch | Pareto |"
    )
    assert "| symoe | 62.5 | 2.25 | 2.5 | ✓ |" in lines
    assert "| best-single | 50.0 | 1.00 | 1.0 | ✓ |" in lines
    assert "| random-k | 25.0 | 1.00 | 2.0 |  |" in lines
    assert "| oracle † | 100.0 | 3.00 | 3.0 |  |" in lines
    assert "| workflow-research | 100.0 | - | 2.0* |  |" in lines
    assert "loaded per batch of 2 items" in report
    assert "- where not counted" in report
    # shown once, in its section, not again under Plots
    assert report.count("(plots/accuracy_vs_cost.png)") == 1
    assert report.index("(plots/accuracy_vs_cost.png)") < report.index("## Plots")
    assert "![accuracy](plots/accuracy.png)" in report
    # the summary table is as it was
    assert "| Method | Accuracy (%) | Committee oracle (%) | Unparseable |" in report


def test_the_pareto_of_metrics_json_is_drawn_and_upper_bounds_never(tmp_path: Path) -> None:
    methods = {"symoe": point(0.5, 3), "oracle": point(0.9, 3), "best-single": point(0.4, 1)}
    path = plot_accuracy_vs_cost(methods, tmp_path / "cost.png", ["oracle", "symoe"])
    assert path == tmp_path / "cost.png"
    assert path.read_bytes()[:8] == PNG_MAGIC
    lines = render_markdown({"methods": methods, "pareto": ["oracle", "symoe"]}).splitlines()
    assert "| best-single | 40.0 | 1.00 | - |  |" in lines  # as metrics.json said
    assert "| oracle † | 90.0 | 3.00 | - |  |" in lines


def test_metrics_written_before_calls_were_counted_have_no_cost_plot_or_section(
    tmp_path: Path,
) -> None:
    methods = {"symoe": {"accuracy_mean": 0.5, "label": "", "per_category": {"law": 0.5}}}
    assert plot_accuracy_vs_cost(methods, tmp_path / "cost.png") is None
    assert not (tmp_path / "cost.png").exists()
    written = write_report(tmp_path, {"methods": methods})
    assert [p.name for p in written] == ["report.md", "accuracy.png", "accuracy_per_category.png"]
    assert "Accuracy versus cost" not in written[0].read_text()
