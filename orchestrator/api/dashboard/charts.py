"""Charts drawn on the server as inline SVG (no chart library, no script): horizontal bars
with their values, and a line chart of one or more series over an ordered axis. Labels are
escaped; the markup is safe to put in a template as is. Colours come from dashboard.css
classes, so a chart follows the page's palette."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

ROW = 18  # px per bar
LABEL_W = 150  # px for a bar's label


def _num(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def bar_chart(
    bars: Sequence[tuple[str, float]], title: str, width: int = 560, css: str = "svg-bar"
) -> Markup:
    """One bar per (label, value), longest = the largest value; an empty chart says so."""
    if not bars:
        return Markup('<p class="hint">{}: nothing counted yet.</p>').format(title)
    top = max(v for _, v in bars) or 1.0
    span = width - LABEL_W - 60
    height = ROW * len(bars) + 4
    parts = [
        f'<svg class="chart bars" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(bars):
        y = i * ROW + 2
        w = max(0.0, span * value / top)
        parts.append(
            f'<g data-label="{escape(label)}" data-value="{_num(value)}">'
            f'<text class="label" x="{LABEL_W - 6}" y="{y + 12}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="{escape(css)}" x="{LABEL_W}" y="{y}" width="{w:.1f}" '
            f'height="{ROW - 4}"><title>{escape(label)}: {_num(value)}</title></rect>'
            f'<text class="value" x="{LABEL_W + w + 4:.1f}" y="{y + 12}">{_num(value)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    css: str  # the line's class in dashboard.css


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    title: str,
    width: int = 720,
    height: int = 200,
) -> Markup:
    """The series as lines over `labels` (x, in order; the first and last are written under
    the axis), a y axis from 0 to the largest value with three ticks, and a legend."""
    if not labels:
        return Markup('<p class="hint">{}: nothing stored yet.</p>').format(title)
    left, right, top_pad, bottom = 40, 10, 10, 34
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top = max((max(s.values, default=0) for s in series), default=0) or 1.0
    step = plot_w / max(1, len(labels) - 1)

    def x(i: int) -> float:
        return left + i * step if len(labels) > 1 else left + plot_w / 2

    def y(v: float) -> float:
        return top_pad + plot_h - plot_h * v / top

    parts = [
        f'<svg class="chart line" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
        f'<line class="axis" x1="{left}" y1="{y(0):.1f}" x2="{width - right}" y2="{y(0):.1f}"/>',
    ]
    for tick in (0.0, top / 2, top):
        parts.append(
            f'<text class="tick" x="{left - 4}" y="{y(tick) + 4:.1f}" text-anchor="end">'
            f"{_num(tick)}</text>"
            f'<line class="grid" x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" '
            f'y2="{y(tick):.1f}"/>'
        )
    parts.append(
        f'<text class="tick" x="{left}" y="{height - 18}">{escape(labels[0])}</text>'
        f'<text class="tick" x="{width - right}" y="{height - 18}" text-anchor="end">'
        f"{escape(labels[-1])}</text>"
    )
    for n, s in enumerate(series):
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values))
        parts.append(
            f'<polyline class="{escape(s.css)}" data-series="{escape(s.name)}" points="{points}">'
            f"<title>{escape(s.name)}</title></polyline>"
        )
        parts.append(
            f'<text class="legend {escape(s.css)}" x="{left + 10 + n * 190}" y="{height - 4}">'
            f"— {escape(s.name)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
