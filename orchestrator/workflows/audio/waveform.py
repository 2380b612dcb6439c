"""A PNG of the mixed soundscape: its waveform, with each timeline event as a labelled span
in a lane of its type underneath (and shaded over the waveform), drawn with matplotlib's
object API (Figure and the Agg canvas: no pyplot state, no display)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from orchestrator.workflows.audio.clip import load_wav
from orchestrator.workflows.audio.event import EVENT_TYPES, SoundEvent
from orchestrator.workflows.audio.loudness import Samples
from orchestrator.workflows.types import SubTask

COLOURS = {"speech": "#4c72b0", "sfx": "#dd8452", "music": "#55a868"}
_BUCKETS = 2400  # min/max pairs drawn: enough for the figure's width at its dpi
_DPI = 110
_LABEL_CHARS = 40


def envelope(samples: Samples, rate: int, buckets: int = _BUCKETS) -> tuple[Samples, ...]:
    """(times, minima, maxima) per bucket: the waveform's outline at a drawable size."""
    if samples.size == 0:
        return np.zeros(1), np.zeros(1), np.zeros(1)
    count = min(buckets, samples.shape[0])
    starts = np.linspace(0, samples.shape[0], count, endpoint=False).astype(int)  # distinct
    return starts / rate, np.minimum.reduceat(samples, starts), np.maximum.reduceat(samples, starts)


def lane_rows(timeline: list[SoundEvent]) -> tuple[list[str], list[int]]:
    """Rows of the lane part, top to bottom: each type gets as many rows as it needs so
    that overlapping events of one type sit on separate rows. Returns the row labels and
    each event's row."""
    labels: list[str] = []
    rows = [0] * len(timeline)
    for kind in EVENT_TYPES:
        row_ends: list[float] = []  # per row of this type: where its last event ends
        order = sorted(
            (i for i, e in enumerate(timeline) if e.type == kind), key=lambda i: timeline[i].start
        )
        for i in order:
            free = next((r for r, end in enumerate(row_ends) if end <= timeline[i].start), None)
            if free is None:
                free = len(row_ends)
                row_ends.append(0.0)
            row_ends[free] = timeline[i].end
            rows[i] = len(labels) + free
        labels += [kind] * len(row_ends)
    return labels, rows


def waveform_png(wav_path: Path, events: list[SubTask], out_path: Path) -> Path:
    samples, rate = load_wav(wav_path)
    timeline = [SoundEvent.from_task(task) for task in events]
    lanes, rows = lane_rows(timeline)
    length = samples.shape[0] / rate
    fig = Figure(figsize=(12, 4.8), dpi=_DPI, layout="constrained")
    wave_ax, lane_ax = fig.subplots(
        2, 1, sharex=True, height_ratios=[3, max(1.0, 0.6 * len(lanes))]
    )
    times, lows, highs = envelope(samples, rate)
    wave_ax.fill_between(times, lows, highs, color="#333333", linewidth=0.4)
    wave_ax.set_ylim(-1.05, 1.05)
    wave_ax.set_ylabel("amplitude")
    wave_ax.set_title(f"{wav_path.name}: {length:.1f} s, {len(timeline)} events")
    for event, row in zip(timeline, rows, strict=True):
        wave_ax.axvspan(event.start, event.end, color=COLOURS[event.type], alpha=0.12)
        lane_ax.broken_barh(
            [(event.start, event.duration_s)],
            (row + 0.1, 0.8),
            color=COLOURS[event.type],
            alpha=0.8,
        )
        label = f"{event.task_id}: {event.description}"
        if len(label) > _LABEL_CHARS:
            label = label[: _LABEL_CHARS - 1] + "…"
        lane_ax.text(
            event.start + 0.05,
            row + 0.5,
            label,
            va="center",
            ha="left",
            fontsize=7,
            color="white",
            clip_on=True,
        )
    lane_ax.set_yticks([i + 0.5 for i in range(len(lanes))], lanes)
    lane_ax.set_ylim(max(1, len(lanes)), 0)  # the first row on top
    lane_ax.set_xlim(0, max([length, 0.1, *(e.end for e in timeline)]))
    lane_ax.set_xlabel("seconds")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, format="png")
    return out_path
