"""The clip format every audio tool writes and every supervisor reads: a mono 16-bit WAV at
SAMPLE_RATE, named by the sha256 of its bytes (so a clip made twice is stored once)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from orchestrator.workflows.audio.loudness import Samples, fit_loudness, measure_lufs
from orchestrator.workflows.types import Artifact

SAMPLE_RATE = 24000
MEDIA_TYPE = "audio/wav"
SUBTYPE = "PCM_16"


class ClipError(ValueError):
    """A file that cannot be read as audio; the message names it."""


def load_wav(path: Path) -> tuple[Samples, int]:
    """The file's samples mixed down to mono (float64 in [-1, 1]) and its sample rate."""
    try:
        data, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    except (OSError, RuntimeError) as exc:  # soundfile's LibsndfileError is a RuntimeError
        raise ClipError(f"cannot read audio file {path}: {exc}") from exc
    return data.mean(axis=1), int(rate)


def resample(samples: Samples, from_rate: int, to_rate: int) -> Samples:
    """Linear interpolation onto the new rate's grid; enough for speech and synthesis here,
    whose content sits well below either rate's Nyquist frequency."""
    if from_rate == to_rate or samples.size == 0:
        return samples
    count = round(samples.shape[0] * to_rate / from_rate)
    new_times = np.arange(count) / to_rate
    old_times = np.arange(samples.shape[0]) / from_rate
    return np.interp(new_times, old_times, samples)


def read_clip(path: Path) -> Samples:
    """A clip at SAMPLE_RATE, whatever rate its file has."""
    samples, rate = load_wav(path)
    return resample(samples, rate, SAMPLE_RATE)


def write_wav(samples: Samples, path: Path) -> None:
    soundfile.write(str(path), samples, SAMPLE_RATE, subtype=SUBTYPE, format="WAV")


def write_clip(samples: Samples, out_dir: Path, meta: dict[str, Any]) -> Artifact:
    """Write `samples` under `out_dir` as `<sha256>.wav` and describe it; `meta` gains the
    duration and the loudness measured on what was written (after 16-bit rounding)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(suffix=".wav", dir=out_dir)
    os.close(handle)
    temp = Path(temp_name)
    try:
        write_wav(samples, temp)
        digest = hashlib.sha256(temp.read_bytes()).hexdigest()
        final = out_dir / f"{digest}.wav"
        temp.replace(final)  # atomic: a reader never sees half a clip
    finally:
        temp.unlink(missing_ok=True)
    written, rate = load_wav(final)
    described = {
        **meta,
        "duration_s": round(written.shape[0] / rate, 4),
        "lufs": round(measure_lufs(written, rate), 2),
        "sample_rate": rate,
        "peak": round(float(np.max(np.abs(written))) if written.size else 0.0, 4),
    }
    return Artifact(path=final.name, sha256=digest, media_type=MEDIA_TYPE, meta=described)


def finish_clip(
    samples: Samples, volume_lufs: float, out_dir: Path, meta: dict[str, Any]
) -> Artifact:
    """A tool's last step: fit the loudness to the event's volume, then write the clip."""
    return write_clip(fit_loudness(samples, SAMPLE_RATE, volume_lufs), out_dir, meta)
