"""report.md and the PNG plots, from a small fake metrics.json."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from orchestrator.eval.plots import committee_varies
from orchestrator.eval.report import render_markdown, write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def fake_metrics(
    methods: list[str], n_categories: int = 3, n_experts: int = 3, seeds: int = 2
) -> dict[str, Any]:
    """Metrics as the runner writes them; `symoe` recruits per category, `best-single` uses
    one expert, `top-k` a fixed committee, `oracle` is labelled an upper bound."""
    rng = random.Random(7)
    cats = [f"category {i}" for i in range(n_categories)]
    experts = [f"expert-{i:02d}" for i in range(n_experts)]
    config = {"benchmark": "mmlu_pro", "split": "test", "methods": methods,
              "seeds": list(range(seeds)), "limit": 30, "k": 3, "experts_file": "experts.yaml",
              "profile": None, "options": {}}  # fmt: skip
    out: dict[str, Any] = {}
    for name in methods:
        per_seed = {str(s): rng.uniform(0.3, 0.9) for s in range(seeds)}
        mean = sum(per_seed.values()) / seeds
        if name == "symoe":
            drawn = {c: {e: rng.randint(0, 9) for e in rng.sample(experts, min(5, n_experts))}
                     for c in cats}  # fmt: skip
        elif name == "best-single":
            drawn = {c: {experts[0]: 20} for c in cats}
        else:
            drawn = {c: {e: 10 for e in experts[:3]} for c in cats}
        out[name] = {
            "accuracy_mean": mean,
            "accuracy_std": 0.04,
            "accuracy_per_seed": per_seed,
            "unparseable_mean": 1.5,  # items per seed
            "items": 30,
            "prompt_tokens": 123_456,
            "completion_tokens": 7_890,
            "seconds": 42.5,
            "loads_per_stage": {"tag": 1, "experts": 3, "aggregate": 0},
            "distinct_models": len({e for d in drawn.values() for e in d}),
            "per_category": {c: rng.uniform(0.1, 1.0) for c in cats},
            "experts_per_category": drawn,
            "label": "upper bound: right if any expert is right" if name == "oracle" else "",
        }
    return {"config": config, "items": 30, "seconds": 130.25, "methods": out}


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, path
    assert len(data) > 1024, path


def test_write_report_writes_markdown_and_valid_pngs(tmp_path: Path) -> None:
    metrics = fake_metrics(["symoe", "best-single", "oracle"])
    written = write_report(tmp_path / "run", metrics)
    plots = tmp_path / "run" / "plots"
    assert written == [
        tmp_path / "run" / "report.md",
        plots / "accuracy.png",
        plots / "accuracy_per_category.png",
        plots / "experts_per_category.png",
    ]
    for png in written[1:]:
        assert_png(png)
    report = written[0].read_text()
    for name in ("symoe", "best-single", "oracle"):
        assert f"| {name}" in report
    assert "| oracle † |" in report
    assert "- oracle †: upper bound: right if any expert is right" in report
    assert "![accuracy](plots/accuracy.png)" in report
    assert '"benchmark": "mmlu_pro"' in report
    for cat in ("category 0", "category 1", "category 2"):
        assert f"| {cat} |" in report


def test_summary_row_shows_mean_std_loads_and_tokens() -> None:
    metrics = fake_metrics(["symoe"], seeds=2)
    method = metrics["methods"]["symoe"]
    method.update(accuracy_mean=0.625, accuracy_std=0.0125)
    method.update(loads_per_stage={"tag": 1, "experts": 3.5, "verify": 2}, distinct_models=2.5)
    row = next(line for line in render_markdown(metrics).splitlines() if line.startswith("| symoe"))
    assert row.startswith("| symoe | 62.5 ± 1.2 | 1.5 (5.0%) | 2.5 | 1 / 3.5 / 0, verify 2 |")
    assert row.endswith("| 123,456 | 7,890 | 42.5 |")


def test_single_seed_has_no_spread_and_committee_oracle_shows() -> None:
    metrics = fake_metrics(["top-k"], seeds=1)
    metrics["methods"]["top-k"].update(
        accuracy_mean=0.5, committee_oracle_mean=0.75, label="deterministic: computed once"
    )
    text = render_markdown(metrics)
    assert "| Committee oracle (%) |" in text
    assert "| top-k | 50.0 | 75.0 | 1.5 (5.0%) |" in text
    assert "- top-k: deterministic: computed once" in text


def test_best_contender_per_category_is_bold_and_oracle_never() -> None:
    metrics = fake_metrics(["symoe", "best-single", "oracle"], n_categories=1)
    metrics["methods"]["symoe"]["per_category"] = {"category 0": 0.5}
    metrics["methods"]["best-single"]["per_category"] = {"category 0": 0.25}
    metrics["methods"]["oracle"]["per_category"] = {"category 0": 0.75}
    line = next(x for x in render_markdown(metrics).splitlines() if x.startswith("| category 0"))
    assert line == "| category 0 | **50.0** | 25.0 | 75.0 |"


def test_fixed_committees_are_not_plotted(tmp_path: Path) -> None:
    metrics = fake_metrics(["best-single", "top-k"])
    written = write_report(tmp_path, metrics)
    assert [p.name for p in written] == ["report.md", "accuracy.png", "accuracy_per_category.png"]
    assert not committee_varies(metrics["methods"]["top-k"]["experts_per_category"])
    assert not committee_varies(metrics["methods"]["best-single"]["experts_per_category"])


def test_full_size_report(tmp_path: Path) -> None:
    """22 experts, 14 categories, 7 methods: the sizes a real MMLU-Pro run has."""
    methods = ["symoe", "best-single", "random-k", "top-k", "all-vote", "self-consistency",
               "oracle"]  # fmt: skip
    metrics = fake_metrics(methods, n_categories=14, n_experts=22, seeds=3)
    written = write_report(tmp_path, metrics)
    assert len(written) == 4
    for png in written[1:]:
        assert_png(png)
    assert "- symoe: " in written[0].read_text()


def test_one_category_plots_every_committee_of_several() -> None:
    assert committee_varies({"math": {"a": 2, "b": 2}})
    assert not committee_varies({"math": {"a": 4}})
    assert not committee_varies({})
