"""PNG plots of an eval run's metrics.json, drawn with matplotlib's object API.

Figures are built with `matplotlib.figure.Figure` and saved through the Agg canvas: no
pyplot, so no global figure state, no display and no backend switch at import.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

# re-exported: the report and the dashboard import it from here
from orchestrator.eval.metrics import is_upper_bound as is_upper_bound
from orchestrator.eval.metrics import pareto_front

Grid = np.ndarray[Any, np.dtype[np.float64]]

TOP_EXPERTS = 12  # experts_per_category keeps these apart; the rest are summed as "other"
_DPI = 130
_BAR = "#4c72b0"
_BOUND = "#c9c9c9"
_FRONT = "#dd8452"


def categories(methods: dict[str, dict[str, Any]]) -> list[str]:
    """Every category any method reports, sorted."""
    return sorted({c for m in methods.values() for c in m.get("per_category", {})})


def committee_varies(per_category: dict[str, dict[str, int]]) -> bool:
    """Whether a method drew more than one expert, and not the same mix in every category
    (a fixed committee, such as top-k or all-vote, has nothing to show per category)."""
    experts = {e for counts in per_category.values() for e, n in counts.items() if n > 0}
    if len(experts) <= 1:
        return False
    shares = []
    for counts in per_category.values():
        total = sum(counts.values())
        if total:
            shares.append({e: round(counts.get(e, 0) / total, 9) for e in experts})
    # One category cannot tell a fixed committee from a recruited one: show it.
    return len(shares) <= 1 or any(s != shares[0] for s in shares[1:])


def recruiting_methods(methods: dict[str, dict[str, Any]]) -> list[str]:
    return [n for n, m in methods.items() if committee_varies(m.get("experts_per_category", {}))]


def plot_accuracy(methods: dict[str, dict[str, Any]], path: Path, subtitle: str = "") -> Path:
    names = list(methods)
    means = np.array([100 * methods[n].get("accuracy_mean", 0.0) for n in names])
    stds = np.array([100 * methods[n].get("accuracy_std", 0.0) for n in names])
    bound = [is_upper_bound(n, methods[n]) for n in names]
    fig = Figure(figsize=(max(6.0, 1.1 * len(names) + 2), 4.6), dpi=_DPI, layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(names))
    bars = ax.bar(x, means, yerr=stds, capsize=4, color=[_BOUND if b else _BAR for b in bound],
                  edgecolor="#333333", linewidth=0.6, error_kw={"elinewidth": 1})  # fmt: skip
    for bar, b in zip(bars, bound, strict=True):
        if b:
            bar.set_hatch("//")
    for xi, mean, std, b in zip(x, means, stds, bound, strict=True):
        text = f"{mean:.1f}" + ("\nupper bound" if b else "")
        ax.annotate(text, (xi, mean + std), xytext=(0, 3), textcoords="offset points",
                    ha="center", va="bottom", fontsize=8)  # fmt: skip
    ax.set_xticks(x, names, rotation=30 if len(names) > 5 else 0, ha="right" if len(names) > 5
                  else "center")  # fmt: skip
    ax.set_ylabel("accuracy (%), mean ± std over seeds")
    ax.set_ylim(0, min(100.0, float(max(means + stds, default=0.0)) * 1.18 + 5))
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_title("Accuracy per method" + (f": {subtitle}" if subtitle else ""))
    fig.savefig(path)
    return path


def plot_accuracy_vs_cost(
    methods: dict[str, dict[str, Any]], path: Path, pareto: list[str] | None = None
) -> Path | None:
    """Accuracy (%) against expert calls per question, one labelled point per method, the
    Pareto front (`pareto`, else computed) as a step line: at each cost, the best accuracy
    reached for no more. Upper bounds in grey, never on the front. None if no method has a
    call count (metrics written before it was counted)."""
    names = [n for n, m in methods.items() if m.get("expert_calls_per_question") is not None]
    if not names:
        return None
    front = pareto_front(methods) if pareto is None else [n for n in pareto if n in names]
    front = [n for n in front if not is_upper_bound(n, methods[n])]
    fig = Figure(figsize=(7.0, 4.8), dpi=_DPI, layout="constrained")
    ax = fig.add_subplot()
    for name in names:
        m = methods[name]
        x, y = float(m["expert_calls_per_question"]), 100 * float(m.get("accuracy_mean") or 0.0)
        bound, on_front = is_upper_bound(name, m), name in front
        color = _BOUND if bound else _FRONT if on_front else _BAR
        ax.errorbar(x, y, yerr=100 * float(m.get("accuracy_std") or 0.0), fmt="D" if on_front
                    else "o", color=color, markeredgecolor="#333333", markersize=7, capsize=3,
                    elinewidth=0.8, zorder=3)  # fmt: skip
        ax.annotate(f"{name} (upper bound)" if bound else name, (x, y), xytext=(6, 5),
                    textcoords="offset points", fontsize=8,
                    color="#777777" if bound else "black")  # fmt: skip
    if front:
        xs = [float(methods[n]["expert_calls_per_question"]) for n in front]
        ys = [100 * float(methods[n].get("accuracy_mean") or 0.0) for n in front]
        order = sorted(range(len(front)), key=lambda i: (xs[i], ys[i]))
        ax.step([xs[i] for i in order], [ys[i] for i in order], where="post", color=_FRONT,
                linewidth=1.5, zorder=2, label="Pareto front")  # fmt: skip
        ax.legend(loc="lower right", fontsize=8)
    top = max(100 * float(methods[n].get("accuracy_mean") or 0.0) for n in names)
    ax.set_ylim(0, min(105.0, top * 1.15 + 5))
    ax.set_xlim(left=0, right=max(float(methods[n]["expert_calls_per_question"])
                                  for n in names) * 1.2 + 0.5)  # fmt: skip
    ax.set_xlabel("expert calls per question (mean over items and seeds)")
    ax.set_ylabel("accuracy (%), mean ± std over seeds")
    ax.grid(alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_title("Accuracy versus cost")
    fig.savefig(path)
    return path


def plot_accuracy_per_category(methods: dict[str, dict[str, Any]], path: Path) -> Path:
    """A heatmap, categories down and methods across, each cell annotated in %."""
    names, cats = list(methods), categories(methods)
    values = np.full((len(cats), len(names)), np.nan)
    for j, name in enumerate(names):
        for i, cat in enumerate(cats):
            acc = methods[name].get("per_category", {}).get(cat)
            if acc is not None:
                values[i, j] = 100 * acc
    fig = Figure(figsize=(max(5.5, 0.95 * len(names) + 3), max(3.0, 0.42 * len(cats) + 1.8)),
                 dpi=_DPI, layout="constrained")  # fmt: skip
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", vmin=0, vmax=100,
                      aspect="auto")  # fmt: skip
    _annotate(ax, values, dark_low=True)
    labels = [f"{n}\n(upper bound)" if is_upper_bound(n, methods[n]) else n for n in names]
    ax.set_xticks(np.arange(len(names)), labels, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(np.arange(len(cats)), cats, fontsize=8)
    ax.set_title("Accuracy (%) per category")
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, label="accuracy (%)")
    fig.savefig(path)
    return path


def plot_experts_per_category(methods: dict[str, dict[str, Any]], path: Path) -> Path | None:
    """For each recruiting method, the share (%) of each category's draws that went to each
    of its TOP_EXPERTS most drawn experts, the rest as "other". None if no method recruits."""
    shown = recruiting_methods(methods)
    if not shown:
        return None
    panels = [_expert_shares(methods[n]["experts_per_category"]) for n in shown]
    widths = [len(cols) for _, cols, _ in panels]
    heights = [len(rows) for rows, _, _ in panels]
    fig = Figure(figsize=(max(6.0, 0.62 * max(widths) + 3.5),
                          sum(0.4 * h + 2.4 for h in heights)), dpi=_DPI,
                 layout="constrained")  # fmt: skip
    axes = fig.subplots(len(shown), 1, squeeze=False, height_ratios=[h + 5 for h in heights])
    # One scale for all panels, up to the largest share drawn: 100 would wash out the cells.
    top = max(10.0, min(100.0, 10 * np.ceil(max(float(s.max()) for _, _, s in panels) / 10)))
    image = None
    for ax, name, (rows, cols, shares) in zip(axes[:, 0], shown, panels, strict=True):
        image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=top, aspect="auto")
        _annotate(ax, shares, dark_low=False, skip_zero=True, split=top / 2)
        ax.set_xticks(np.arange(len(cols)), cols, rotation=40, ha="right", fontsize=8)
        ax.set_yticks(np.arange(len(rows)), rows, fontsize=8)
        ax.set_title(f"{name}: share of draws per category (%)", fontsize=10)
    if image is not None:
        fig.colorbar(image, ax=list(axes[:, 0]), fraction=0.03, pad=0.02, label="% of draws")
    fig.savefig(path)
    return path


def _expert_shares(
    per_category: dict[str, dict[str, int]],
) -> tuple[list[str], list[str], Grid]:
    totals: Counter[str] = Counter()
    for counts in per_category.values():
        totals.update(counts)
    ranked = sorted(totals, key=lambda e: (-totals[e], e))
    top, rest = ranked[:TOP_EXPERTS], set(ranked[TOP_EXPERTS:])
    cols = top + (["other"] if rest else [])
    rows = sorted(per_category)
    shares = np.zeros((len(rows), len(cols)))
    for i, cat in enumerate(rows):
        counts = per_category[cat]
        total = sum(counts.values()) or 1
        for j, expert in enumerate(top):
            shares[i, j] = 100 * counts.get(expert, 0) / total
        if rest:
            shares[i, -1] = 100 * sum(counts.get(e, 0) for e in rest) / total
    return rows, cols, shares


def _annotate(
    ax: Axes, values: Grid, *, dark_low: bool, skip_zero: bool = False, split: float = 55.0
) -> None:
    """Write each cell's value (rounded %) on a heatmap, white where the colormap is dark:
    the low end for viridis (`dark_low`), the high end for Blues."""
    for (i, j), value in np.ndenumerate(values):
        if np.isnan(value) or (skip_zero and round(value) == 0):
            continue
        color = "white" if (value < split) == dark_low else "black"
        ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=7, color=color)
