"""Assembly of the soundscape: every clip placed at its start on one timeline, summed, and
the sum scaled down as a whole when its peak would clip (so the clips keep their relative
levels; only a mix that would clip comes out quieter than planned)."""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from orchestrator.workflows.audio.clip import SAMPLE_RATE, read_clip, write_wav
from orchestrator.workflows.audio.loudness import PEAK_CEILING


@dataclass(frozen=True)
class MixReport:
    path: Path
    duration_s: float
    peak_before: float  # the sum's peak before any scaling
    gain_db: float  # 0 when the sum did not need scaling


def mix_timeline(clips: list[tuple[float, Path]], duration_s: float, out_path: Path) -> MixReport:
    """Write the mix of `clips` (start in seconds, WAV file) as a `duration_s` long WAV at
    SAMPLE_RATE; a clip running past the end is cut there."""
    if not duration_s > 0:
        raise ValueError(f"the timeline's duration must be positive (got {duration_s})")
    total = round(duration_s * SAMPLE_RATE)
    mix = np.zeros(total)
    for start_s, path in clips:
        if not 0 <= start_s < duration_s:
            raise ValueError(
                f"clip {path} starts at {start_s} s, outside the 0-{duration_s} s timeline"
            )
        samples = read_clip(path)
        offset = round(start_s * SAMPLE_RATE)
        end = min(total, offset + samples.shape[0])
        mix[offset:end] += samples[: end - offset]
    peak = float(np.max(np.abs(mix))) if total else 0.0
    gain = PEAK_CEILING / peak if peak > PEAK_CEILING else 1.0
    out_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(suffix=".wav", dir=out_path.parent)
    os.close(handle)
    try:
        write_wav(mix * gain, Path(temp_name))
        Path(temp_name).replace(out_path)  # atomic: a reader never sees half a mix
    finally:
        Path(temp_name).unlink(missing_ok=True)
    return MixReport(out_path, total / SAMPLE_RATE, peak, round(20 * math.log10(gain), 2))
