"""The numpy_sfx and numpy_music tools: exact length, planned loudness, keyword choices,
determinism."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from orchestrator.workflows.audio.clip import SAMPLE_RATE, load_wav
from orchestrator.workflows.audio.loudness import measure_lufs
from orchestrator.workflows.audio.music import NumpyMusicTool
from orchestrator.workflows.audio.sfx import NumpySfxTool
from orchestrator.workflows.audio.supervisors import silent_share
from orchestrator.workflows.tools import Tool, ToolError

from .conftest import event

SFX = [
    ("rain on a tin roof", ["rain"]),
    ("a gust of wind", ["wind"]),
    ("footsteps running on gravel", ["footsteps"]),
    ("someone knocking on a door", ["door"]),
    ("a church bell rings", ["bell"]),
    ("birds chirping at dawn", ["birds"]),
    ("a storm with thunder", ["rain", "thunder"]),
    ("a murmuring crowd", ["crowd"]),
    ("a strange hum from nowhere", ["ambience"]),
]


def check_clip(path: Path, seconds: float, volume: float) -> None:
    samples, rate = load_wav(path)
    assert rate == SAMPLE_RATE
    assert samples.shape[0] == round(seconds * SAMPLE_RATE)  # exactly the slot
    assert abs(measure_lufs(samples, rate) - volume) <= 1.0
    assert float(abs(samples).max()) < 0.999  # fitted, not clipped
    assert silent_share(samples, rate) < 0.4


@pytest.mark.parametrize(("description", "recipes"), SFX)
def test_sfx_has_the_exact_length_and_loudness(
    tmp_path: Path, description: str, recipes: list[str]
) -> None:
    task = event("sfx", 1.25, 4.0, volume=-20.0, description=description)
    artifact = NumpySfxTool().generate(task, "", tmp_path)

    check_clip(tmp_path / artifact.path, 2.75, -20.0)
    assert artifact.meta["recipes"] == recipes
    assert hashlib.sha256((tmp_path / artifact.path).read_bytes()).hexdigest() == artifact.sha256


@pytest.mark.parametrize(
    ("description", "mood"),
    [
        ("calm piano for a quiet morning", "calm"),
        ("tense music, something is wrong", "tense"),
        ("a happy upbeat tune", "happy"),
        ("background music", "neutral"),
    ],
)
def test_music_has_the_exact_length_loudness_and_mood(
    tmp_path: Path, description: str, mood: str
) -> None:
    task = event("music", 0.0, 6.5, volume=-28.0, description=description)
    artifact = NumpyMusicTool().generate(task, "", tmp_path)

    check_clip(tmp_path / artifact.path, 6.5, -28.0)
    assert artifact.meta["mood"] == mood


@pytest.mark.parametrize("tool", [NumpySfxTool(), NumpyMusicTool()])
def test_same_task_same_clip_new_instruction_new_take(tmp_path: Path, tool: Tool) -> None:
    task = event(tool.handles[0], 0.0, 1.5, description="rain")
    first = tool.generate(task, "rain", tmp_path)
    again = tool.generate(task, "rain", tmp_path)
    other = tool.generate(task, "rain, make it 0.2 s longer", tmp_path)

    assert first.sha256 == again.sha256
    assert other.sha256 != first.sha256
    assert len(list(tmp_path.glob("*.wav"))) == 2  # a clip made twice is stored once


def test_a_short_event_is_measured_and_fitted(tmp_path: Path) -> None:
    """Under BS.1770's 400 ms block: still the planned length and loudness."""
    artifact = NumpySfxTool().generate(event("sfx", 0, 0.25, description="door"), "", tmp_path)
    check_clip(tmp_path / artifact.path, 0.25, -23.0)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"end": "soon"}, "field 'end' must be a number"),
        ({"volume": 3.0}, "field 'volume' is 3.0 LUFS"),
        ({"start": -1.0}, "field 'start' is negative"),
    ],
)
def test_bad_event_fields_are_named(tmp_path: Path, fields: dict[str, object], named: str) -> None:
    task = event("sfx", 0, 2.0, description="rain")
    bad = task.model_copy(update={"fields": {**task.fields, **fields}})
    with pytest.raises(ToolError, match=named):
        NumpySfxTool().generate(bad, "", tmp_path)
    assert not list(tmp_path.glob("*.wav"))


def test_an_unknown_event_type_is_named(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="type 'song' is not one of speech, sfx, music"):
        NumpyMusicTool().generate(event("song", 0, 2.0), "", tmp_path)
