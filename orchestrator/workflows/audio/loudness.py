"""Integrated loudness (ITU-R BS.1770-4, through pyloudnorm) and fitting a clip to a target.

BS.1770 gates 400 ms blocks, so a clip shorter than that is measured with one block as long
as the clip: the same K-weighted mean square, over the only block there is."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyloudnorm

Samples = np.ndarray[Any, np.dtype[np.float64]]

BLOCK_S = 0.4
PEAK_CEILING = 0.98  # what a fitted clip may reach; the signal supervisor flags 0.999 and up


class SilentClipError(ValueError):
    """The clip has no measurable loudness (every block below BS.1770's -70 LUFS gate)."""


def measure_lufs(samples: Samples, rate: int) -> float:
    """Integrated loudness in LUFS; -inf for silence or an empty clip."""
    if samples.size == 0:
        return float("-inf")
    block = min(BLOCK_S, samples.shape[0] / rate)
    meter = pyloudnorm.Meter(rate, block_size=block)
    return float(meter.integrated_loudness(samples))


def soft_limit(samples: Samples, ceiling: float = PEAK_CEILING, knee: float = 0.8) -> Samples:
    """Leave samples below `knee * ceiling` alone and bend the rest smoothly under `ceiling`
    (a tanh curve), so a loud transient is softened instead of cut flat."""
    start = knee * ceiling
    magnitude = np.abs(samples)
    over = magnitude > start
    bent = start + (ceiling - start) * np.tanh((magnitude - start) / (ceiling - start))
    return np.where(over, np.sign(samples) * bent, samples)


def fit_loudness(samples: Samples, rate: int, target_lufs: float, rounds: int = 4) -> Samples:
    """`samples` scaled to `target_lufs`, peaks kept under PEAK_CEILING.

    Limiting lowers the loudness a little, so gain and limiting alternate a few rounds; a
    very peaky sound asked to be very loud can end below its target (the loudness supervisor
    then says so)."""
    fitted = samples.astype(np.float64)
    for _ in range(rounds):
        lufs = measure_lufs(fitted, rate)
        if not np.isfinite(lufs):
            raise SilentClipError("the clip is silent: there is no loudness to scale")
        fitted = fitted * float(10.0 ** ((target_lufs - lufs) / 20.0))
        if float(np.max(np.abs(fitted))) <= PEAK_CEILING:
            return fitted
        fitted = soft_limit(fitted)
    return fitted
