"""Assembly: clips mixed at their offsets without clipping, and the waveform PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from orchestrator.workflows.audio.clip import SAMPLE_RATE, load_wav, write_wav
from orchestrator.workflows.audio.event import EventError, SoundEvent
from orchestrator.workflows.audio.loudness import PEAK_CEILING
from orchestrator.workflows.audio.mix import mix_timeline
from orchestrator.workflows.audio.waveform import lane_rows, waveform_png
from orchestrator.workflows.types import SubTask

from .conftest import event, steady_noise

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def clip_file(folder: Path, name: str, samples: np.ndarray) -> Path:
    path = folder / name
    write_wav(samples, path)
    return path


def onset_s(samples: np.ndarray, threshold: float = 0.01) -> float:
    return float(np.flatnonzero(np.abs(samples) > threshold)[0]) / SAMPLE_RATE


def test_a_clip_starts_at_its_offset(tmp_path: Path) -> None:
    burst = clip_file(tmp_path, "burst.wav", steady_noise(0.5, level=0.2))
    report = mix_timeline([(1.5, burst)], 4.0, tmp_path / "mix.wav")

    mixed, rate = load_wav(report.path)
    assert rate == SAMPLE_RATE and mixed.shape[0] == 4 * SAMPLE_RATE
    assert onset_s(mixed) == pytest.approx(1.5, abs=0.005)
    assert not mixed[: int(1.5 * SAMPLE_RATE)].any()  # nothing before the clip
    assert onset_s(mixed[::-1]) == pytest.approx(4.0 - 2.0, abs=0.005)  # it ends at 2.0 s
    assert report.gain_db == 0.0


def test_overlapping_loud_clips_are_limited_not_clipped(tmp_path: Path) -> None:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    tone = clip_file(tmp_path, "tone.wav", 0.9 * np.sin(2 * np.pi * 200 * t))
    report = mix_timeline([(0.0, tone), (0.0, tone), (0.5, tone)], 2.0, tmp_path / "mix.wav")

    mixed, _ = load_wav(report.path)
    assert report.peak_before > 1.7
    assert report.gain_db < -5.0
    assert float(np.abs(mixed).max()) <= PEAK_CEILING + 1e-3


def test_a_clip_past_the_end_is_cut_and_one_outside_is_refused(tmp_path: Path) -> None:
    long = clip_file(tmp_path, "long.wav", steady_noise(3.0))
    report = mix_timeline([(1.0, long)], 2.0, tmp_path / "mix.wav")
    assert load_wav(report.path)[0].shape[0] == 2 * SAMPLE_RATE

    with pytest.raises(ValueError, match=r"long.wav starts at 2.5 s, outside the 0-2.0 s"):
        mix_timeline([(2.5, long)], 2.0, tmp_path / "mix.wav")


def test_the_waveform_png_is_a_real_png(tmp_path: Path) -> None:
    mix = clip_file(tmp_path, "mix.wav", steady_noise(5.0))
    events = [
        event("music", 0.0, 5.0, description="calm music"),
        event("sfx", 0.5, 3.0, description="rain"),
        event("sfx", 2.0, 4.0, description="a door slams"),
        event("speech", 1.0, 2.5, description="a greeting", text="hello"),
    ]
    out = waveform_png(mix, events, tmp_path / "plots" / "mix.png")

    data = out.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000


def test_overlapping_events_of_one_type_get_their_own_rows() -> None:
    timeline = [
        SoundEvent.from_task(e)
        for e in (
            event("sfx", 0.0, 3.0),
            event("sfx", 2.0, 4.0),
            event("sfx", 3.5, 5.0),
            event("speech", 1.0, 2.0),
        )
    ]
    labels, rows = lane_rows(timeline)
    assert labels == ["speech", "sfx", "sfx"]
    assert rows == [1, 2, 1, 0]


def test_a_bad_event_is_named_in_the_plot(tmp_path: Path) -> None:
    mix = clip_file(tmp_path, "mix.wav", steady_noise(1.0))
    late = SubTask(id="s1", type="sfx", fields={"start": "later", "end": 1.0, "volume": -20})
    with pytest.raises(EventError, match="field 'start' must be a number"):
        waveform_png(mix, [late], tmp_path / "mix.png")
