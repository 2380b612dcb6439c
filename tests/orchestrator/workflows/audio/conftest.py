"""Builders for the audio tests: timeline events and attempts over clips written to disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from orchestrator.workflows.audio.clip import SAMPLE_RATE, write_wav
from orchestrator.workflows.types import Artifact, Attempt, SubTask

MakeAttempt = Callable[..., Attempt]


def event(kind: str, start: float, end: float, volume: float = -23.0, **fields: Any) -> SubTask:
    """event("sfx", 1.0, 3.0, volume=-20, description="rain"): a soundscape SubTask."""
    fields = {"start": start, "end": end, "volume": volume, "description": kind, **fields}
    return SubTask(id=f"{kind}-{start:g}", type=kind, fields=fields)


@pytest.fixture
def make_attempt(tmp_path: Path) -> MakeAttempt:
    """attempt(samples) writes the samples as a clip under tmp_path and returns an Attempt
    whose artifact points at it (supervisors review it with artifacts_dir=tmp_path)."""

    def build(samples: np.ndarray, name: str = "clip.wav") -> Attempt:
        write_wav(samples, tmp_path / name)
        artifact = Artifact(path=name, sha256="0" * 64, media_type="audio/wav")
        return Attempt(task_id="t", candidate="test", number=1, instruction="", artifact=artifact)

    return build


def steady_noise(seconds: float, level: float = 0.1, seed: int = 0) -> np.ndarray:
    """A steady test signal at RMS `level` (low-passed white noise)."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(round(seconds * SAMPLE_RATE))
    smooth = np.convolve(white, np.ones(8) / 8, mode="same")
    return level * smooth / np.sqrt(np.mean(smooth**2))
