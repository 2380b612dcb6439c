"""`symoe eval run --cascade` on the replay pool: the learned aggregation over 22 ranked
experts answers every question as the whole committee does, with fewer expert calls."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_data_dir

SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]
REPLAY_EXPERTS = Path(__file__).resolve().parents[2] / "orchestrator/defaults/replay_experts.yaml"
K = 22


def _run(env: dict[str, str], out: Path, *extra: str) -> None:
    proc = subprocess.run(
        [
            *SYMOE,
            "eval",
            "run",
            "--benchmark",
            "mmlu_pro",
            "--split",
            "test",
            "--limit",
            "60",
            "--seeds",
            "0",
            "--experts-file",
            str(REPLAY_EXPERTS),
            "--tagger",
            "category",
            "--profile-split",
            "train",
            "--recruiter",
            "ranked",
            "--aggregation",
            "learned",
            "--k",
            str(K),
            "--methods",
            "symoe",
            "--out",
            str(out),
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr


def _rows(out: Path) -> list[dict[str, object]]:
    lines = (out / "predictions" / "symoe__seed0.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.replay
@pytest.mark.skipif(
    not (shared_data_dir() / "replay" / "mmlu_pro").is_dir(), reason="no replay data"
)
def test_cascade_answers_as_the_whole_committee_with_fewer_calls(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    whole, cascade = tmp_path / "whole", tmp_path / "cascade"
    _run(cli_env, whole)
    _run(cli_env, cascade, "--cascade")

    whole_rows, cascade_rows = _rows(whole), _rows(cascade)
    assert len(whole_rows) == len(cascade_rows) == 60
    preds = {r["item_id"]: r["pred"] for r in whole_rows}
    assert {r["item_id"]: r["pred"] for r in cascade_rows} == preds
    assert all(
        r["experts"] == w["experts"]
        for r, w in zip(
            sorted(cascade_rows, key=lambda r: str(r["item_id"])),
            sorted(whole_rows, key=lambda r: str(r["item_id"])),
            strict=True,
        )
    )  # the same 22 drawn, in the same order: the cascade only asks fewer of them

    assert all(r["expert_calls"] == K for r in whole_rows)
    calls = [r["expert_calls"] for r in cascade_rows]
    assert all(isinstance(c, int) for c in calls)
    counts = [int(str(c)) for c in calls]
    assert all(2 <= c <= K for c in counts)
    assert any(c < K for c in counts)

    whole_m = json.loads((whole / "metrics.json").read_text())["methods"]["symoe"]
    cascade_m = json.loads((cascade / "metrics.json").read_text())["methods"]["symoe"]
    assert whole_m["expert_calls_per_question"] == pytest.approx(K)
    assert cascade_m["expert_calls_per_question"] < K
    assert cascade_m["expert_calls_per_question"] == pytest.approx(sum(counts) / len(counts))
    assert cascade_m["accuracy_mean"] == pytest.approx(whole_m["accuracy_mean"])
    assert json.loads((cascade / "config.json").read_text()).get("cascade") is True
