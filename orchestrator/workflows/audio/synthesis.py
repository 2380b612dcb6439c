"""Numpy building blocks for the synthesis tools: seeded randomness, noise shaped in the
frequency domain, envelopes and placement. Everything is deterministic given the generator,
and every function takes and returns float64 sample arrays at SAMPLE_RATE."""

from __future__ import annotations

import hashlib

import numpy as np

from orchestrator.workflows.audio.clip import SAMPLE_RATE
from orchestrator.workflows.audio.loudness import Samples


def seeded_rng(*parts: str) -> np.random.Generator:
    """The same task id and instruction always give the same sound; a rewritten instruction
    gives another take."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def seconds(n: int) -> Samples:
    """Each sample's time in seconds."""
    return np.arange(n, dtype=np.float64) / SAMPLE_RATE


def band_filter(
    samples: Samples, low_hz: float = 0.0, high_hz: float = 0.0, order: int = 2
) -> Samples:
    """Zero-phase band-pass: Butterworth magnitudes (`order` poles per edge) applied to the
    spectrum. `low_hz` 0 means no high-pass, `high_hz` 0 no low-pass."""
    if samples.size == 0:
        return samples
    spectrum = np.fft.rfft(samples)
    freqs = np.fft.rfftfreq(samples.shape[0], 1.0 / SAMPLE_RATE)
    gain = np.ones_like(freqs)
    if high_hz > 0:
        gain /= np.sqrt(1.0 + (freqs / high_hz) ** (2 * order))
    if low_hz > 0:
        with np.errstate(divide="ignore"):
            gain /= np.sqrt(1.0 + (low_hz / np.maximum(freqs, 1e-9)) ** (2 * order))
    return np.fft.irfft(spectrum * gain, n=samples.shape[0])


def noise(
    n: int,
    rng: np.random.Generator,
    tilt_db_per_octave: float = 0.0,
    low_hz: float = 0.0,
    high_hz: float = 0.0,
) -> Samples:
    """Gaussian noise with a spectral tilt (white 0, pink -3, brown -6 dB per octave), then
    band-limited, scaled to unit RMS."""
    white = rng.standard_normal(n)
    if tilt_db_per_octave:
        spectrum = np.fft.rfft(white)
        freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
        freqs[0] = freqs[1] if n > 1 else 1.0
        spectrum *= (freqs / 1000.0) ** (tilt_db_per_octave / (20 * np.log10(2)))
        white = np.fft.irfft(spectrum, n=n)
    return unit_rms(band_filter(white, low_hz, high_hz))


def unit_rms(samples: Samples) -> Samples:
    rms = float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0
    return samples / rms if rms > 0 else samples


def decay(n: int, half_life_s: float, attack_s: float = 0.002) -> Samples:
    """A struck envelope: a short linear attack, then exponential decay."""
    t = seconds(n)
    envelope: Samples = np.exp(-np.log(2) * t / half_life_s)
    attack = max(1, int(attack_s * SAMPLE_RATE))
    envelope[: min(attack, n)] *= np.linspace(0.0, 1.0, min(attack, n))
    return envelope


def wobble(
    n: int, rng: np.random.Generator, speed_hz: float, depth: float, floor: float = 0.0
) -> Samples:
    """A slow random modulation in [floor, 1]: a few sinusoids around `speed_hz` with random
    phases (gusts, swells, the murmur of a crowd). `depth` 0 is flat."""
    t = seconds(n)
    mix = np.zeros(n)
    for ratio in (1.0, 1.618, 2.414):
        mix += np.sin(2 * np.pi * speed_hz * ratio * t + rng.uniform(0, 2 * np.pi))
    shape = (mix / 3.0 + 1.0) / 2.0  # [0, 1]
    return floor + (1.0 - floor) * (1.0 - depth + depth * shape)


def place(track: Samples, sound: Samples, at_s: float, gain: float = 1.0) -> None:
    """Add `sound` into `track` from `at_s` on, cut at the track's end (in place)."""
    start = round(at_s * SAMPLE_RATE)
    if start >= track.shape[0] or start + sound.shape[0] <= 0:
        return
    begin = max(0, -start)
    end = min(sound.shape[0], track.shape[0] - start)
    track[start + begin : start + end] += gain * sound[begin:end]


def fade_edges(samples: Samples, fade_s: float = 0.02) -> Samples:
    """Short linear fades at both ends, so a clip cut to its exact length does not click."""
    n = min(samples.shape[0] // 2, int(fade_s * SAMPLE_RATE))
    if n == 0:
        return samples
    shaped = samples.copy()
    ramp = np.linspace(0.0, 1.0, n)
    shaped[:n] *= ramp
    shaped[-n:] *= ramp[::-1]
    return shaped


def tone(freq_hz: float, n: int, partials: tuple[float, ...] = (1.0,)) -> Samples:
    """A harmonic tone: `partials[k]` is the amplitude of harmonic k+1."""
    t = seconds(n)
    out = np.zeros(n)
    for k, amplitude in enumerate(partials, start=1):
        if amplitude and freq_hz * k < SAMPLE_RATE / 2:
            out += amplitude * np.sin(2 * np.pi * freq_hz * k * t)
    return out


def scatter(
    n: int,
    rng: np.random.Generator,
    per_second: float,
    kernel: Samples,
    gains: tuple[float, float] = (0.5, 1.0),
) -> Samples:
    """Copies of `kernel` at random times (a Poisson-like rate), each with a random gain:
    rain drops, crackles. One FFT convolution of an impulse train, however many copies."""
    count = rng.poisson(per_second * n / SAMPLE_RATE)
    impulses = np.zeros(n)
    np.add.at(impulses, rng.integers(0, max(n, 1), count), rng.uniform(*gains, count))
    size = n + kernel.shape[0]
    return np.fft.irfft(np.fft.rfft(impulses, size) * np.fft.rfft(kernel, size), size)[:n]
