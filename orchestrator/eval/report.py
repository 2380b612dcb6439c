"""The human-readable side of an eval run: DIR/report.md and the PNG plots under DIR/plots.

Everything is read from the metrics.json dict (see orchestrator.eval.runner), so a report can
be rebuilt from a finished run's directory alone.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from orchestrator.eval.metrics import pareto_front
from orchestrator.eval.plots import (
    categories,
    is_upper_bound,
    plot_accuracy,
    plot_accuracy_per_category,
    plot_accuracy_vs_cost,
    plot_experts_per_category,
    recruiting_methods,
)

_STAGES = ("tag", "experts", "aggregate")
_COST_PLOT = "accuracy_vs_cost.png"  # shown in its own section, not under Plots


def write_report(out_dir: Path, metrics: dict[str, Any]) -> list[Path]:
    """Write DIR/report.md and DIR/plots/*.png; returns the files written, report first."""
    methods: dict[str, dict[str, Any]] = metrics.get("methods", {})
    plots = out_dir / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    config = metrics.get("config", {})
    subtitle = " / ".join(str(config[k]) for k in ("benchmark", "split") if config.get(k))
    written = [
        plot_accuracy(methods, plots / "accuracy.png", subtitle),
        plot_accuracy_per_category(methods, plots / "accuracy_per_category.png"),
    ]
    experts = plot_experts_per_category(methods, plots / "experts_per_category.png")
    if experts is not None:
        written.append(experts)
    cost = plot_accuracy_vs_cost(methods, plots / _COST_PLOT, metrics.get("pareto"))
    if cost is not None:
        written.append(cost)
    report = out_dir / "report.md"
    report.write_text(render_markdown(metrics, [p.relative_to(out_dir) for p in written]))
    return [report, *written]


def render_markdown(metrics: dict[str, Any], plots: list[Path] | None = None) -> str:
    methods: dict[str, dict[str, Any]] = metrics.get("methods", {})
    config: dict[str, Any] = metrics.get("config", {})
    title = " / ".join(str(config[k]) for k in ("benchmark", "split") if config.get(k))
    lines = [f"# Evaluation: {title or 'report'}", ""]
    seeds = config.get("seeds")
    lines.append(
        f"{metrics.get('items', '?')} items"
        + (f", seeds {', '.join(map(str, seeds))}" if seeds else "")
        + f", {_num(metrics.get('seconds', 0.0), 1)} s in all."
    )
    lines += ["", "## Methods", "", *_summary_table(methods), ""]
    lines += [
        "Per seed, averaged over seeds: unparseable answers (items, and % of items), distinct "
        "models drawn, model loads per stage (tag / experts / aggregate), model calls, tokens, "
        "seconds. A workflow (workflow-<name>) runs once per item; its cost is every call its "
        "runs made (roles and sub-questions).",
        "",
    ]
    notes = [
        f"- {n}{' †' if is_upper_bound(n, m) else ''}: {m.get('label') or 'upper bound'}"
        for n, m in methods.items()
        if m.get("label") or is_upper_bound(n, m)
    ]
    if notes:
        if any(is_upper_bound(n, m) for n, m in methods.items()):
            lines += ["† an upper bound, not a contender.", ""]
        lines += [*notes, ""]
    if categories(methods):
        lines += ["## Accuracy per category (%)", "", *_category_table(methods), ""]
        lines += ["Bold: the best method of the category, upper bounds left out.", ""]
    cost_plot = next((p for p in plots or [] if p.name == _COST_PLOT), None)
    lines += _cost_section(metrics, cost_plot)
    lines += _experts_section(methods)
    shown = [p for p in plots or [] if p != cost_plot]
    if shown:
        lines += ["## Plots", ""]
        for p in shown:
            lines += [f"![{p.stem.replace('_', ' ')}]({p.as_posix()})", ""]
    lines += ["## Config", "", "```json", json.dumps(config, indent=2, sort_keys=True), "```", ""]
    return "\n".join(lines)


def _summary_table(methods: dict[str, dict[str, Any]]) -> list[str]:
    oracle = any("committee_oracle_mean" in m for m in methods.values())
    retrieved = any(m.get("retrieval_rate") for m in methods.values())
    qa = any("f1_mean" in m for m in methods.values())
    header = ["Method", "Accuracy (%)", *(["Committee oracle (%)"] if oracle else []),
              "Unparseable", "Distinct models", "Loads", "Model calls", "Prompt tokens",
              "Completion tokens",
              "Seconds", *(["EM (%)", "F1 (%)"] if qa else []),
              *(["Retrieved (%)", "Passage tokens", "Search s"] if retrieved else [])]  # fmt: skip
    rows = [_row(header), _row(["---"] + ["---:"] * (len(header) - 1))]
    for name, m in methods.items():
        accuracy = _pct(m.get("accuracy_mean"))
        if len(m.get("accuracy_per_seed", {})) > 1:  # one seed: no spread to show
            accuracy += f" ± {_pct(m.get('accuracy_std'))}"
        rows.append(
            _row([
                f"{name} †" if is_upper_bound(name, m) else name,
                accuracy,
                *([_pct(m.get("committee_oracle_mean"))] if oracle else []),
                _unparseable(m),
                _count(m.get("distinct_models", 0)),
                _loads(m.get("loads_per_stage", {})),
                _count(m.get("model_calls", 0)),
                _count(m.get("prompt_tokens", 0)),
                _count(m.get("completion_tokens", 0)),
                _num(m.get("seconds", 0.0), 1),
                *([_pct(m.get("em_mean")), _pct(m.get("f1_mean"))] if qa else []),
                *([_pct(m.get("retrieval_rate")), _count(m.get("retrieval_prompt_tokens", 0)),
                   _num(m.get("search_seconds", 0.0), 2)] if retrieved else []),
            ])
        )  # fmt: skip
    return rows


def _category_table(methods: dict[str, dict[str, Any]]) -> list[str]:
    """Categories down, methods across: 14 categories read better as rows than as columns."""
    names = list(methods)
    header = ["Category"] + [f"{n} †" if is_upper_bound(n, methods[n]) else n for n in names]
    rows = [_row(header), _row(["---"] + ["---:"] * len(names))]
    contenders = [n for n in names if not is_upper_bound(n, methods[n])]
    for cat in categories(methods):
        values = {n: methods[n].get("per_category", {}).get(cat) for n in names}
        scored = [values[n] for n in contenders if values[n] is not None]
        best = max(scored) if scored else None
        cells = []
        for n in names:
            cell = _pct(values[n])
            bold = best is not None and n in contenders and values[n] == best
            cells.append(f"**{cell}**" if bold else cell)
        rows.append(_row([cat, *cells]))
    return rows


def _cost_section(metrics: dict[str, Any], plot: Path | None = None) -> list[str]:
    """Accuracy beside the two explicit costs, with the Pareto front marked; nothing for
    metrics written before expert calls were counted."""
    methods: dict[str, dict[str, Any]] = metrics.get("methods", {})
    if all(m.get("expert_calls_per_question") is None for m in methods.values()):
        return []
    front = metrics.get("pareto")
    front = pareto_front(methods) if front is None else front
    header = ["Method", "Accuracy (%)", "Expert calls / question", "Models / batch", "Pareto"]
    lines = ["## Accuracy versus cost", "", _row(header), _row(["---"] + ["---:"] * 3 + [":---:"])]
    for name, m in methods.items():
        calls = m.get("expert_calls_per_question")
        per_batch = m.get("models_per_batch")
        lines.append(
            _row([
                f"{name} †" if is_upper_bound(name, m) else name,
                _pct(m.get("accuracy_mean")),
                "-" if calls is None else _num(calls, 2),
                "-" if per_batch is None else _num(per_batch, 1)
                + ("" if m.get("models_per_batch_basis") == "loads" else "*"),
                "✓" if name in front and not is_upper_bound(name, m) else "",
            ])
        )  # fmt: skip
    chunk = metrics.get("chunk")
    batch = f"batch of {chunk} items" if chunk else "batch"
    uncounted = any(m.get("expert_calls_per_question") is None for m in methods.values())
    lines += [
        "",
        "Expert calls / question: expert-stage calls per item, mean over items and seeds"
        + ("; - where not counted (a stream not run, or a workflow: its rows list each "
           "expert once)" if uncounted else "")
        + f". Models / batch: models the experts stage loaded per {batch}, mean over seeds; "
        "* marks the distinct experts drawn per run instead (the batch size unknown, or a "
        "workflow). ✓: on the Pareto front, no other method as accurate for no more expert "
        "calls and better on one of the two (upper bounds left out).",
        "",
    ]  # fmt: skip
    if plot is not None:
        lines += [f"![accuracy versus cost]({plot.as_posix()})", ""]
    return lines


def _experts_section(methods: dict[str, dict[str, Any]]) -> list[str]:
    shown = recruiting_methods(methods)
    if not shown:
        return []
    lines = ["## Experts drawn", ""]
    for name in shown:
        totals: Counter[str] = Counter()
        for counts in methods[name]["experts_per_category"].values():
            totals.update(counts)
        n = sum(totals.values()) or 1
        top = ", ".join(f"{e} {100 * c / n:.0f}%" for e, c in totals.most_common(5))
        lines.append(f"- {name}: {len(totals)} experts; most drawn: {top}")
    fixed = [n for n, m in methods.items() if n not in shown and m.get("experts_per_category")]
    if fixed:
        lines.append(f"- {', '.join(fixed)}: the same committee in every category (not plotted)")
    return [*lines, ""]


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _num(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def _count(value: float) -> str:
    """A count, or a count averaged over seeds: 1,234 or 2.5."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _unparseable(method: dict[str, Any]) -> str:
    """unparseable_mean counts items per seed; shown with its share of the items."""
    count, items = method.get("unparseable_mean"), method.get("items")
    if count is None:
        return "-"
    return _count(count) + (f" ({100 * count / items:.1f}%)" if items else "")


def _loads(loads: dict[str, float]) -> str:
    """tag / experts / aggregate, then any other stage by name."""
    known = " / ".join(_count(loads.get(s, 0)) for s in _STAGES)
    other = [f"{s} {_count(n)}" for s, n in loads.items() if s not in _STAGES]
    return ", ".join([known, *other])
