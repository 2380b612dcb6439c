"""The built-in `soundscape` workflow end to end with the real local models: SmolLM2-135M
plans the timeline (decoding constrained to the sub-task schema by llama.cpp's grammar) and
judges it, espeak-ng speaks, numpy synthesises effects and music, the supervisors measure,
the clips are mixed. Each kept clip is measured again here, independently of the supervisors:
a clip whose duration passed lasts as planned within max(0.1 s, 5%), and every clip's
integrated loudness is within 1 LU of its planned volume."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyloudnorm
import pytest
import soundfile

pytestmark = [pytest.mark.llamacpp, pytest.mark.embeddings, pytest.mark.slow]
SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]
SCENE = "A rainy street at night: rain falls, a man says good evening, soft music plays."


def test_soundscape_makes_a_mix_whose_clips_match_the_plan(cli_env: dict[str, str]) -> None:
    done = subprocess.run(
        [*SYMOE, "workflow", "run", "soundscape", "--input", SCENE, "--json"],
        env=cli_env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["status"] == "succeeded"
    steps = {s["key"]: s for s in record["steps"]}
    events = [
        {"id": t["id"], "type": t["type"], **t["fields"]}
        for t in steps["plan"]["output"]["subtasks"]
    ]
    assert 1 <= len(events) <= 3 and all(e["type"] in ("speech", "sfx", "music") for e in events)
    judged = steps["judge"]["output"]["scores"][0]
    assert judged["dimension"] == "coverage" and 0.0 <= judged["value"] <= 1.0

    artifacts = Path(cli_env["SYMOE_DATA_DIR"]) / "workflows" / record["id"] / "artifacts"
    mix, rate = soundfile.read(artifacts / "soundscape.wav")
    assert len(mix) / rate == pytest.approx(max(e["end"] for e in events), abs=0.01)
    kept = {k: v for k, v in steps["generate"]["output"]["accepted"].items()}
    meter = pyloudnorm.Meter(24000)
    for event in events:
        attempt = kept[event["id"]]
        assert attempt["error"] is None, attempt["error"]
        clip, clip_rate = soundfile.read(artifacts / attempt["artifact"]["path"])
        assert clip_rate == 24000
        planned = event["end"] - event["start"]
        scores = {s["dimension"]: s["value"] for s in attempt["scores"]}
        if scores["duration"] == 1.0:
            assert len(clip) / clip_rate == pytest.approx(planned, abs=max(0.1, 0.05 * planned))
        assert meter.integrated_loudness(clip) == pytest.approx(event["volume"], abs=1.0)
    assert (artifacts / "waveform.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    timeline = json.loads((artifacts / "timeline.json").read_text())
    assert [e["id"] for e in timeline["events"]] == [e["id"] for e in events]
