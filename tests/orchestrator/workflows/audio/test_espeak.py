"""The espeak tool against the real espeak-ng binary (scripts/setup installs it)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from orchestrator.workflows.audio.clip import SAMPLE_RATE, load_wav
from orchestrator.workflows.audio.espeak import DEFAULT_WPM, EspeakTool, spoken_text
from orchestrator.workflows.audio.event import SoundEvent
from orchestrator.workflows.audio.loudness import measure_lufs
from orchestrator.workflows.audio.supervisors import silent_share
from orchestrator.workflows.tools import ToolError

from .conftest import event

SENTENCE = "Welcome to the harbour market, traveller. Fresh fish, cheap today!"


def test_speech_fills_its_slot_at_the_planned_loudness(tmp_path: Path) -> None:
    task = event("speech", 2.0, 6.0, volume=-18.0, text=SENTENCE)
    artifact = EspeakTool().generate(task, "", tmp_path)

    samples, rate = load_wav(tmp_path / artifact.path)
    assert rate == SAMPLE_RATE and artifact.media_type == "audio/wav"
    assert abs(samples.shape[0] / rate - 4.0) <= 0.1  # padded or sped to the 4 s slot
    assert abs(measure_lufs(samples, rate) - (-18.0)) <= 1.0
    assert silent_share(samples, rate) < 0.4  # it really speaks: mostly sound, not padding
    assert artifact.path == f"{artifact.sha256}.wav"
    assert hashlib.sha256((tmp_path / artifact.path).read_bytes()).hexdigest() == artifact.sha256
    assert artifact.meta["text"] == SENTENCE
    assert artifact.meta["duration_s"] == pytest.approx(samples.shape[0] / rate, abs=1e-3)


def test_the_rate_follows_the_slot(tmp_path: Path) -> None:
    tight = EspeakTool().generate(event("speech", 0, 2.5, text=SENTENCE), "", tmp_path)
    roomy = EspeakTool().generate(event("speech", 0, 2.5, text="Hello there."), "", tmp_path)

    assert tight.meta["wpm"] > DEFAULT_WPM > roomy.meta["wpm"]
    assert tight.meta["duration_s"] <= 2.5 + 0.15


def test_a_say_line_in_the_instruction_replaces_the_text(tmp_path: Path) -> None:
    task = event("speech", 0, 3.0, text=SENTENCE)
    rewrite = "The clip was too long: say fewer words.\nsay: Fresh fish today!"
    artifact = EspeakTool().generate(task, rewrite, tmp_path)

    assert artifact.meta["text"] == "Fresh fish today!"
    assert spoken_text(SoundEvent.from_task(task), "no say line here") == SENTENCE


def test_unusable_input_raises_tool_error(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="nothing to say"):
        EspeakTool().generate(event("speech", 0, 2.0, text="   "), "", tmp_path)
    with pytest.raises(ToolError, match=r"espeak-ng failed .*voice 'xx-no-such-voice'"):
        EspeakTool().generate(
            event("speech", 0, 2.0, text="hello", voice="xx-no-such-voice"), "", tmp_path
        )
    with pytest.raises(ToolError, match="field 'end'"):
        EspeakTool().generate(event("speech", 3.0, 2.0, text="hello"), "", tmp_path)
    assert not list(tmp_path.glob("*.wav"))  # nothing half-written left behind


def test_a_missing_binary_is_named(tmp_path: Path) -> None:
    tool = EspeakTool(binary="espeak-ng-not-installed")
    with pytest.raises(ToolError, match="'espeak-ng-not-installed' is not on PATH"):
        tool.generate(event("speech", 0, 2.0, text="hello"), "", tmp_path)


def test_speech_is_speech_not_noise(tmp_path: Path) -> None:
    """espeak-ng's voice sits in the speech band: most energy between 100 Hz and 4 kHz."""
    artifact = EspeakTool().generate(event("speech", 0, 3.0, text=SENTENCE), "", tmp_path)
    samples, rate = load_wav(tmp_path / artifact.path)
    power = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(samples.shape[0], 1 / rate)
    assert power[(freqs > 100) & (freqs < 4000)].sum() / power.sum() > 0.8
