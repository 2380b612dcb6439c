"""The measuring supervisors of the soundscape workflow: each reads an attempt's clip and
scores it against the plan, with a reason that says what to change.

- `duration`: the clip's length against end - start.
- `loudness`: integrated loudness (BS.1770, LUFS) against the event's volume.
- `signal`: the share of clipped samples ("clipping") and of near-silent audio ("silence").

An attempt without a readable clip, or an event whose fields make no sense, scores 0 on every
dimension, with the reason."""

from __future__ import annotations

import math
from abc import abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np

from orchestrator.workflows.audio.clip import ClipError, load_wav
from orchestrator.workflows.audio.event import EventError, SoundEvent
from orchestrator.workflows.audio.loudness import Samples, measure_lufs
from orchestrator.workflows.tools import Supervisor
from orchestrator.workflows.types import Attempt, Score, SubTask

DURATION_TOLERANCE_S = 0.1  # or DURATION_TOLERANCE_SHARE of the slot, whichever is larger
DURATION_TOLERANCE_SHARE = 0.05
LOUDNESS_TOLERANCE_LU = 1.0
LOUDNESS_ZERO_LU = 10.0  # this far beyond the tolerance scores 0
CLIP_LEVEL = 0.999  # a sample this close to full scale counts as clipped
CLIPPED_SHARE_ALLOWED = 1e-4
CLIPPED_SHARE_ZERO = 0.01  # 1 % of samples clipped scores 0
SILENCE_DBFS = -60.0  # a 50 ms frame quieter than this (RMS) is near-silent
SILENT_SHARE_ALLOWED = 0.4  # pauses between words or footsteps are fine
FRAME_S = 0.05


class MeasuringSupervisor(Supervisor):
    """Reads the attempt's clip and the event, then measures; subclasses only measure."""

    def review(self, task: SubTask, attempt: Attempt, artifacts_dir: Path) -> list[Score]:
        if attempt.artifact is None:
            why = f" ({attempt.error})" if attempt.error else ""
            return self._zeros(f"no clip: the attempt made no audio{why}")
        try:
            event = SoundEvent.from_task(task)
        except EventError as exc:
            return self._zeros(f"the plan cannot be checked: {exc}")
        try:
            samples, rate = load_wav(artifacts_dir / attempt.artifact.path)
        except ClipError as exc:
            return self._zeros(str(exc))
        if samples.size == 0:
            return self._zeros("the clip has no samples")
        return self.measure(event, samples, rate)

    @abstractmethod
    def measure(self, event: SoundEvent, samples: Samples, rate: int) -> list[Score]: ...

    def _score(self, dimension: str, value: float, reason: str) -> Score:
        return Score(
            supervisor=self.name,
            dimension=dimension,
            value=min(1.0, max(0.0, value)),
            reason=reason,
        )

    def _zeros(self, reason: str) -> list[Score]:
        return [self._score(d, 0.0, reason) for d in self.dimensions]


class DurationSupervisor(MeasuringSupervisor):
    """1.0 within max(0.1 s, 5 %) of the slot, then down by the error beyond that as a share
    of the slot (0 at twice or at none of the slot's length)."""

    name: ClassVar[str] = "duration"
    dimensions: ClassVar[tuple[str, ...]] = ("duration",)

    def measure(self, event: SoundEvent, samples: Samples, rate: int) -> list[Score]:
        length = samples.shape[0] / rate
        planned = event.duration_s
        error = length - planned
        tolerance = max(DURATION_TOLERANCE_S, DURATION_TOLERANCE_SHARE * planned)
        said = f"clip is {length:.2f} s, planned {planned:.2f} s ({event.start:g}-{event.end:g} s)"
        if abs(error) <= tolerance:
            return [self._score("duration", 1.0, f"{said}: within {tolerance:.2f} s")]
        value = 1.0 - (abs(error) - tolerance) / planned
        return [self._score("duration", value, f"{said}: {self._fix(event, error)}")]

    @staticmethod
    def _fix(event: SoundEvent, error: float) -> str:
        if event.type == "speech":
            if error > 0:
                return f"{error:.2f} s too long: say fewer words or speak faster"
            return f"{-error:.2f} s too short: say more words or speak slower"
        return f"make it {abs(error):.2f} s {'shorter' if error > 0 else 'longer'}"


class LoudnessSupervisor(MeasuringSupervisor):
    """1.0 within ±1 LU of the event's volume, falling to 0 at 10 LU beyond that."""

    name: ClassVar[str] = "loudness"
    dimensions: ClassVar[tuple[str, ...]] = ("loudness",)

    def measure(self, event: SoundEvent, samples: Samples, rate: int) -> list[Score]:
        lufs = measure_lufs(samples, rate)
        target = event.volume_lufs
        if not math.isfinite(lufs):
            return [self._score("loudness", 0.0, f"clip is silent, planned {target:g} LUFS")]
        error = lufs - target
        said = f"clip measures {lufs:.1f} LUFS, planned {target:g} LUFS"
        if abs(error) <= LOUDNESS_TOLERANCE_LU:
            return [self._score("loudness", 1.0, f"{said}: within ±{LOUDNESS_TOLERANCE_LU:g} LU")]
        value = 1.0 - (abs(error) - LOUDNESS_TOLERANCE_LU) / LOUDNESS_ZERO_LU
        direction = "quieter" if error > 0 else "louder"
        return [self._score("loudness", value, f"{said}: make it {abs(error):.1f} LU {direction}")]


class SignalSupervisor(MeasuringSupervisor):
    """Clipping: 1.0 up to 0.01 % of samples at full scale, 0 at 1 %. Silence: 1.0 up to 40 %
    of 50 ms frames below -60 dBFS, then down to 0 when all of it is silent."""

    name: ClassVar[str] = "signal"
    dimensions: ClassVar[tuple[str, ...]] = ("clipping", "silence")

    def measure(self, event: SoundEvent, samples: Samples, rate: int) -> list[Score]:
        return [self._clipping(samples), self._silence(samples, rate)]

    def _clipping(self, samples: Samples) -> Score:
        share = float(np.mean(np.abs(samples) >= CLIP_LEVEL))
        if share <= CLIPPED_SHARE_ALLOWED:
            return self._score("clipping", 1.0, f"{100 * share:.3f} % of samples clipped")
        value = 1.0 - (share - CLIPPED_SHARE_ALLOWED) / (CLIPPED_SHARE_ZERO - CLIPPED_SHARE_ALLOWED)
        return self._score(
            "clipping",
            value,
            f"{100 * share:.2f} % of samples are clipped at full scale: "
            "lower the level or soften the peaks",
        )

    def _silence(self, samples: Samples, rate: int) -> Score:
        share = silent_share(samples, rate)
        said = f"{100 * share:.0f} % of the clip is near-silent (below {SILENCE_DBFS:g} dBFS)"
        if share <= SILENT_SHARE_ALLOWED:
            return self._score("silence", 1.0, said)
        value = 1.0 - (share - SILENT_SHARE_ALLOWED) / (1.0 - SILENT_SHARE_ALLOWED)
        return self._score("silence", value, f"{said}: fill the slot with sound")


def silent_share(samples: Samples, rate: int) -> float:
    """The share of 50 ms frames (the last one may be shorter) whose RMS is below
    SILENCE_DBFS."""
    frame = max(1, int(FRAME_S * rate))
    count = -(-samples.shape[0] // frame)
    padded = np.pad(samples, (0, count * frame - samples.shape[0]))
    frames = padded.reshape(count, frame)
    lengths = np.full(count, frame)
    lengths[-1] = samples.shape[0] - (count - 1) * frame
    rms = np.sqrt(np.sum(frames**2, axis=1) / lengths)
    return float(np.mean(rms < 10 ** (SILENCE_DBFS / 20)))
