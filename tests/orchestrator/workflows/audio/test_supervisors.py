"""The measuring supervisors on constructed clips: good ones score 1, bad ones score low
with a reason that says what to change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from orchestrator.workflows.audio.clip import SAMPLE_RATE
from orchestrator.workflows.audio.loudness import fit_loudness
from orchestrator.workflows.audio.supervisors import (
    DurationSupervisor,
    LoudnessSupervisor,
    SignalSupervisor,
)
from orchestrator.workflows.types import Attempt, Score

from .conftest import MakeAttempt, event, steady_noise


def at_lufs(seconds: float, lufs: float) -> np.ndarray:
    return fit_loudness(steady_noise(seconds), SAMPLE_RATE, lufs)


def review_all(
    task_end: float, attempt: Attempt, folder: Path, kind: str = "sfx"
) -> dict[str, Score]:
    task = event(kind, 1.0, task_end, volume=-23.0)
    scores = []
    for supervisor in (DurationSupervisor(), LoudnessSupervisor(), SignalSupervisor()):
        scores += supervisor.review(task, attempt, folder)
    return {s.dimension: s for s in scores}


def test_a_good_clip_scores_one_everywhere(tmp_path: Path, make_attempt: MakeAttempt) -> None:
    scores = review_all(3.0, make_attempt(at_lufs(2.0, -23.0)), tmp_path)

    assert {d: s.value for d, s in scores.items()} == {
        "duration": 1.0,
        "loudness": 1.0,
        "clipping": 1.0,
        "silence": 1.0,
    }
    assert scores["duration"].supervisor == "duration"
    assert scores["clipping"].supervisor == scores["silence"].supervisor == "signal"


def test_too_long_says_shorter(tmp_path: Path, make_attempt: MakeAttempt) -> None:
    scores = review_all(3.0, make_attempt(at_lufs(3.4, -23.0)), tmp_path)

    assert scores["duration"].value < 0.5
    assert scores["duration"].reason == (
        "clip is 3.40 s, planned 2.00 s (1-3 s): make it 1.40 s shorter"
    )


def test_speech_too_long_or_short_says_how(tmp_path: Path, make_attempt: MakeAttempt) -> None:
    long = review_all(3.0, make_attempt(at_lufs(2.8, -23.0)), tmp_path, kind="speech")
    short = review_all(5.0, make_attempt(at_lufs(2.0, -23.0)), tmp_path, kind="speech")

    assert long["duration"].value < 0.7
    assert "say fewer words or speak faster" in long["duration"].reason
    assert short["duration"].value < 0.7
    assert "say more words or speak slower" in short["duration"].reason


def test_a_little_off_is_within_tolerance(tmp_path: Path, make_attempt: MakeAttempt) -> None:
    scores = review_all(3.0, make_attempt(at_lufs(2.08, -23.6)), tmp_path)
    assert scores["duration"].value == 1.0
    assert scores["loudness"].value == 1.0


def test_too_quiet_says_louder(tmp_path: Path, make_attempt: MakeAttempt) -> None:
    scores = review_all(3.0, make_attempt(at_lufs(2.0, -35.0)), tmp_path)

    assert scores["loudness"].value < 0.2
    assert "planned -23 LUFS: make it 12.0 LU louder" in scores["loudness"].reason
    assert scores["loudness"].reason.startswith("clip measures -35.0 LUFS")


def test_clipped_audio_scores_low(tmp_path: Path, make_attempt: MakeAttempt) -> None:
    t = np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE
    clipped = np.clip(1.6 * np.sin(2 * np.pi * 220 * t), -1.0, 1.0)
    scores = review_all(3.0, make_attempt(clipped), tmp_path)

    assert scores["clipping"].value == 0.0
    assert "clipped at full scale: lower the level" in scores["clipping"].reason


def test_silence_scores_zero(tmp_path: Path, make_attempt: MakeAttempt) -> None:
    scores = review_all(3.0, make_attempt(np.zeros(2 * SAMPLE_RATE)), tmp_path)

    assert scores["silence"].value == 0.0
    assert "100 % of the clip is near-silent" in scores["silence"].reason
    assert scores["loudness"].value == 0.0
    assert scores["loudness"].reason == "clip is silent, planned -23 LUFS"


def test_mostly_silent_scores_low(tmp_path: Path, make_attempt: MakeAttempt) -> None:
    sound = np.concatenate([at_lufs(0.4, -23.0), np.zeros(round(1.6 * SAMPLE_RATE))])
    scores = review_all(3.0, make_attempt(sound), tmp_path)

    assert scores["silence"].value < 0.4
    assert "80 % of the clip is near-silent" in scores["silence"].reason


@pytest.mark.parametrize(
    ("attempt", "reason"),
    [
        (
            Attempt(task_id="t", candidate="espeak", number=1, instruction="", error="boom"),
            "no clip: the attempt made no audio (boom)",
        ),
        (
            Attempt.model_validate(
                {
                    "task_id": "t",
                    "candidate": "x",
                    "number": 1,
                    "instruction": "",
                    "artifact": {"path": "gone.wav", "sha256": "0", "media_type": "audio/wav"},
                }
            ),
            "cannot read audio file",
        ),
    ],
)
def test_no_clip_scores_zero_on_every_dimension(
    tmp_path: Path, attempt: Attempt, reason: str
) -> None:
    scores = review_all(3.0, attempt, tmp_path)

    assert set(scores) == {"duration", "loudness", "clipping", "silence"}
    for score in scores.values():
        assert score.value == 0.0
        assert reason in score.reason


def test_a_plan_without_volume_is_named(tmp_path: Path, make_attempt: MakeAttempt) -> None:
    task = event("sfx", 0, 2.0)
    task = task.model_copy(
        update={"fields": {k: v for k, v in task.fields.items() if k != "volume"}}
    )
    [score] = LoudnessSupervisor().review(task, make_attempt(at_lufs(2.0, -23.0)), tmp_path)
    assert score.value == 0.0
    assert "field 'volume' must be a number" in score.reason
