"""Sound-effect recipes: each makes `n` samples of one kind of sound from noise, filters and
envelopes. A recipe takes the description's words, so "running" footsteps are faster and a
"door" that is "knocked" knocks. Levels are rough: the tool fits the loudness afterwards."""

from __future__ import annotations

import numpy as np

from orchestrator.workflows.audio.clip import SAMPLE_RATE
from orchestrator.workflows.audio.loudness import Samples
from orchestrator.workflows.audio.synthesis import (
    band_filter,
    decay,
    noise,
    place,
    scatter,
    seconds,
    tone,
    unit_rms,
    wobble,
)

Rng = np.random.Generator


def _kernel(rng: Rng, length_s: float, half_life_s: float, low: float, high: float) -> Samples:
    n = max(2, int(length_s * SAMPLE_RATE))
    return noise(n, rng, 0.0, low, high) * decay(n, half_life_s)


def room_tone(n: int, rng: Rng) -> Samples:
    """A quiet bed under sparse sounds: real rooms are never digitally silent."""
    return noise(n, rng, -3.0, 80, 4000) * 0.05


def rain(n: int, rng: Rng, words: set[str]) -> Samples:
    hiss = noise(n, rng, 0.0, 800, 9000) * wobble(n, rng, 0.2, 0.3)
    drops = scatter(n, rng, 60.0, _kernel(rng, 0.01, 0.002, 2000, 10000), (0.5, 3.0))
    heavy = 1.5 if {"heavy", "downpour", "storm"} & words else 1.0
    return heavy * hiss + unit_rms(drops) * 0.6


def wind(n: int, rng: Rng, words: set[str]) -> Samples:
    gusts = noise(n, rng, -6.0, 60, 900) * wobble(n, rng, 0.15, 0.8, floor=0.15)
    whistle = noise(n, rng, 0.0, 500, 1400) * wobble(n, rng, 0.1, 1.0) * 0.3
    return gusts + whistle


def footsteps(n: int, rng: Rng, words: set[str]) -> Samples:
    fast = bool({"running", "run", "runs", "hurried", "rushing", "fast"} & words)
    interval = 0.3 if fast else 0.55
    step = _kernel(rng, 0.15, 0.025, 60, 700)
    place(step, _kernel(rng, 0.06, 0.01, 2000, 6000), 0.0, gain=0.3)  # the sole's scuff
    out = room_tone(n, rng)
    t = 0.1
    while t < n / SAMPLE_RATE:
        place(out, step, t, gain=rng.uniform(0.7, 1.0))
        t += interval * rng.uniform(0.93, 1.07)
    return out


def door(n: int, rng: Rng, words: set[str]) -> Samples:
    out = room_tone(n, rng)
    if any(w.startswith("knock") for w in words):
        knock_n = int(0.12 * SAMPLE_RATE)
        knock = tone(180, knock_n, (1.0, 0.4)) * decay(knock_n, 0.02)
        knock += _kernel(rng, 0.12, 0.008, 200, 2500)
        group = 0.1
        while group < n / SAMPLE_RATE:
            for k in range(3):
                place(out, knock, group + 0.16 * k, gain=rng.uniform(0.8, 1.0))
            group += 1.6
        return out
    creak_n = int(0.6 * n)
    t = seconds(creak_n)
    pitch = 220 + 90 * wobble(creak_n, rng, 0.7, 1.0) + 15 * rng.standard_normal(creak_n)
    saw = 2 * ((np.cumsum(pitch) / SAMPLE_RATE) % 1.0) - 1.0
    envelope = np.sin(np.pi * t / max(t[-1], 1e-6)) if creak_n else t
    out[:creak_n] += band_filter(saw, 300, 3000) * envelope * 0.5
    slam = _kernel(rng, 0.8, 0.12, 40, 900)
    place(slam, _kernel(rng, 0.05, 0.006, 1000, 8000), 0.0, gain=0.5)  # the latch's click
    place(out, unit_rms(slam) * 2.0, 0.65 * n / SAMPLE_RATE)
    return out


def bell(n: int, rng: Rng, words: set[str]) -> Samples:
    small = bool({"chime", "chimes", "small", "little", "tinkle", "ding"} & words)
    base = 880.0 if small else 330.0
    strike_n = min(n, int(3.0 * SAMPLE_RATE))
    t = seconds(strike_n)
    strike = np.zeros(strike_n)
    # a church bell's partials (hum, prime, tierce, quint, nominal...), lower ones ring longer
    for ratio, amplitude in (
        (0.5, 0.6),
        (1.0, 1.0),
        (1.19, 0.5),
        (1.5, 0.4),
        (2.0, 0.6),
        (2.51, 0.3),
        (3.01, 0.2),
    ):
        strike += amplitude * np.sin(2 * np.pi * base * ratio * t) * decay(strike_n, 0.9 / ratio)
    out = room_tone(n, rng)
    at = 0.05
    while at < n / SAMPLE_RATE:
        place(out, strike, at)
        at += 2.5
    return out


def birds(n: int, rng: Rng, words: set[str]) -> Samples:
    out = noise(n, rng, -3.0, 200, 6000) * 0.08  # leaves and air
    for _ in range(rng.poisson(4.0 * n / SAMPLE_RATE)):
        chirp_n = int(rng.uniform(0.05, 0.15) * SAMPLE_RATE)
        sweep = np.linspace(rng.uniform(2500, 4500), rng.uniform(3000, 6500), chirp_n)
        chirp = np.sin(2 * np.pi * np.cumsum(sweep) / SAMPLE_RATE)
        place(
            out,
            chirp * np.hanning(chirp_n),
            rng.uniform(0, n / SAMPLE_RATE),
            gain=rng.uniform(0.3, 1.0),
        )
    return out


def thunder(n: int, rng: Rng, words: set[str]) -> Samples:
    rumble = noise(n, rng, -6.0, 20, 250)
    envelope = np.full(n, 0.1)  # the storm's distant bed
    crack = np.zeros(n)
    strikes = 1 + n // (6 * SAMPLE_RATE)
    for k in range(strikes):
        at = (k + rng.uniform(0.1, 0.4)) * n / (strikes * SAMPLE_RATE)
        place(envelope, decay(n, rng.uniform(0.6, 1.2), attack_s=0.05), at)
        place(crack, _kernel(rng, 0.3, 0.04, 500, 8000), at, gain=0.5)
    storm: Samples = rumble * envelope + crack
    return storm


def crowd(n: int, rng: Rng, words: set[str]) -> Samples:
    out = np.zeros(n)
    for _ in range(10):  # voices: formant-band noise with a syllable rhythm
        low = rng.uniform(250, 600)
        voice = noise(n, rng, -3.0, low, low * rng.uniform(3, 6))
        out += voice * wobble(n, rng, rng.uniform(3.0, 5.0), 0.9)
    return out


def water(n: int, rng: Rng, words: set[str]) -> Samples:
    waves = bool({"wave", "waves", "ocean", "sea", "surf", "shore", "beach"} & words)
    swell = wobble(n, rng, 0.08, 0.8) if waves else wobble(n, rng, 0.6, 0.25)
    return noise(n, rng, -3.0, 100, 6000) * swell


def fire(n: int, rng: Rng, words: set[str]) -> Samples:
    roar = noise(n, rng, -6.0, 40, 500) * wobble(n, rng, 0.5, 0.4)
    crackles = scatter(n, rng, 15.0, _kernel(rng, 0.02, 0.003, 1500, 9000), (0.3, 2.5))
    return roar * 0.5 + unit_rms(crackles)


def engine(n: int, rng: Rng, words: set[str]) -> Samples:
    base = rng.uniform(45, 70)
    throb = 1 + 0.1 * np.sin(2 * np.pi * 8 * seconds(n))  # the cylinders' firing rhythm
    hum = tone(base, n, (1.0, 0.5, 0.33, 0.25, 0.2)) * throb
    return unit_rms(hum) + noise(n, rng, -3.0, 50, 1500) * 0.5


def ambience(n: int, rng: Rng, words: set[str]) -> Samples:
    """The fallback when no keyword matches: a soft, slowly moving noise bed."""
    return noise(n, rng, -3.0, 100, 5000) * wobble(n, rng, 0.3, 0.5)
