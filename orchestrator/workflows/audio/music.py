"""The `numpy_music` tool: a short cue synthesised in numpy. Mood words in the description
or instruction pick the key, mode, tempo and whether drums play; the cue is a chord
progression (pad), a bass line, an arpeggio drawn from the chord tones and a simple beat,
cut to the event's exact length. Deterministic per task and instruction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from orchestrator.workflows.audio.clip import SAMPLE_RATE, finish_clip
from orchestrator.workflows.audio.event import EventError, SoundEvent
from orchestrator.workflows.audio.loudness import Samples, SilentClipError
from orchestrator.workflows.audio.synthesis import (
    decay,
    fade_edges,
    noise,
    place,
    seeded_rng,
    tone,
    unit_rms,
)
from orchestrator.workflows.tools import Tool, ToolError
from orchestrator.workflows.types import Artifact, SubTask

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)


@dataclass(frozen=True)
class Mood:
    name: str
    root_midi: int
    minor: bool
    bpm: float
    progression: tuple[int, ...]  # scale degrees (0-based), one chord per bar
    drums: bool
    notes_per_beat: int  # the arpeggio's density


NEUTRAL = Mood("neutral", 60, False, 96, (0, 4, 5, 3), True, 2)
MOODS: tuple[tuple[str, Mood], ...] = (
    (
        r"\b(tense|suspense|dark|scary|ominous|eerie|horror|danger|creep)",
        Mood("tense", 57, True, 100, (0, 0, 5, 4), True, 4),
    ),
    (
        r"\b(sad|melanchol|sorrow|mourn|lonely|grief)",
        Mood("sad", 57, True, 66, (0, 5, 2, 6), False, 1),
    ),
    (
        r"\b(calm|peaceful|relax|gentle|soft|serene|ambient|quiet|dream)",
        Mood("calm", 60, False, 72, (0, 3, 5, 4), False, 1),
    ),
    (
        r"\b(happy|cheer|upbeat|bright|playful|joy|festive|fun)",
        Mood("happy", 62, False, 124, (0, 4, 5, 3), True, 2),
    ),
    (
        r"\b(epic|heroic|triumph|battle|adventure|victory)",
        Mood("epic", 55, True, 96, (0, 5, 2, 6), True, 2),
    ),
)


def choose_mood(text: str) -> Mood:
    """The first mood whose words appear in `text`, else NEUTRAL."""
    lowered = text.lower()
    return next((mood for pattern, mood in MOODS if re.search(pattern, lowered)), NEUTRAL)


def midi_hz(note: float) -> float:
    return float(440.0 * 2.0 ** ((note - 69) / 12))


def chord(mood: Mood, degree: int) -> list[int]:
    """The triad on `degree` of the mood's scale, as MIDI notes."""
    scale = MINOR if mood.minor else MAJOR
    notes = []
    for step in (degree, degree + 2, degree + 4):
        notes.append(mood.root_midi + scale[step % 7] + 12 * (step // 7))
    return notes


def _note(midi: float, length_s: float, half_life_s: float, partials: tuple[float, ...]) -> Samples:
    n = max(1, int(length_s * SAMPLE_RATE))
    return tone(midi_hz(midi), n, partials) * decay(n, half_life_s, attack_s=0.01)


def _drums(track: Samples, beat_s: float, rng: np.random.Generator, tense: bool) -> None:
    kick_n = int(0.25 * SAMPLE_RATE)
    sweep = np.linspace(120, 45, kick_n)
    kick = np.sin(2 * np.pi * np.cumsum(sweep) / SAMPLE_RATE) * decay(kick_n, 0.06)
    hat_n = int(0.05 * SAMPLE_RATE)
    hat = noise(hat_n, rng, 0.0, 6000, 11000) * decay(hat_n, 0.008) * 0.15
    snare_n = int(0.2 * SAMPLE_RATE)
    snare = noise(snare_n, rng, 0.0, 1000, 5000) * decay(snare_n, 0.04) * 0.3
    beats = int(track.shape[0] / SAMPLE_RATE / beat_s) + 1
    for beat in range(beats):
        at = beat * beat_s
        if beat % 2 == 0 or tense:
            place(track, kick, at, gain=0.9)
        elif not tense:
            place(track, snare, at)
        place(track, hat, at)
        place(track, hat, at + beat_s / 2, gain=0.6)


def render(mood: Mood, n: int, rng: np.random.Generator) -> Samples:
    beat_s = 60.0 / mood.bpm
    bar_s = 4 * beat_s
    track = np.zeros(n)
    total_s = n / SAMPLE_RATE
    bars = int(total_s / bar_s) + 1
    for bar in range(bars):
        notes = chord(mood, mood.progression[bar % len(mood.progression)])
        start = bar * bar_s
        for midi in notes:  # the pad: soft, long, slightly detuned pairs
            for detune in (-0.05, 0.05):
                place(
                    track, _note(midi + detune, bar_s + 0.3, 2.5, (1.0, 0.3, 0.1)), start, gain=0.12
                )
        for beat in (0, 2):  # the bass: the chord's root an octave down, on beats 1 and 3
            place(
                track,
                _note(notes[0] - 12, 2 * beat_s, 0.5, (1.0, 0.5, 0.2)),
                start + beat * beat_s,
                gain=0.35,
            )
        step_s = beat_s / mood.notes_per_beat
        for step in range(4 * mood.notes_per_beat):  # the arpeggio
            midi = notes[int(rng.integers(0, 3))] + 12
            place(
                track,
                _note(midi, step_s * 1.5, 0.25, (1.0, 0.5, 0.25)),
                start + step * step_s,
                gain=0.2,
            )
    if mood.name == "tense":  # a low drone that trembles
        t = np.arange(n) / SAMPLE_RATE
        drone = tone(midi_hz(mood.root_midi - 24), n, (1.0, 0.6, 0.4))
        track += 0.15 * drone * (0.7 + 0.3 * np.sin(2 * np.pi * 6 * t))
    if mood.drums:
        _drums(track, beat_s, rng, tense=mood.name == "tense")
    return track


class NumpyMusicTool(Tool):
    name: ClassVar[str] = "numpy_music"
    handles: ClassVar[tuple[str, ...]] = ("music",)

    def generate(self, task: SubTask, instruction: str, out_dir: Path) -> Artifact:
        try:
            event = SoundEvent.from_task(task)
        except EventError as exc:
            raise ToolError(str(exc)) from exc
        mood = choose_mood(f"{event.description} {instruction}")
        n = round(event.duration_s * SAMPLE_RATE)
        samples = fade_edges(unit_rms(render(mood, n, seeded_rng(task.id, instruction))), 0.05)
        meta = {"tool": self.name, "mood": mood.name, "bpm": mood.bpm}
        try:
            return finish_clip(samples, event.volume_lufs, out_dir, meta)
        except SilentClipError as exc:
            raise ToolError(f"sub-task {task.id!r}: {exc}") from exc
