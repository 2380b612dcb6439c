"""`symoe eval run` on the replay pool (a small subset of the paper experiment) and on the
local llama.cpp experts (real generation)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.answers import extract_letter
from orchestrator.benchmarks import load_benchmark
from tests.conftest import shared_data_dir
from workers.backends.replay_store import ReplayStore

SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]
REPLAY_EXPERTS = Path(__file__).resolve().parents[2] / "orchestrator/defaults/replay_experts.yaml"
METHODS = "symoe,best-single,random-k,top-k,all-vote,self-consistency,oracle"


@pytest.mark.replay
@pytest.mark.skipif(not (shared_data_dir() / "replay").is_dir(), reason="no replay data")
def test_replay_experiment_on_a_subset(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "run"
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
            "80",
            "--methods",
            METHODS,
            "--seeds",
            "0,1",
            "--tagger",
            "category",
            "--experts-file",
            str(REPLAY_EXPERTS),
            "--out",
            str(out),
        ],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    methods = metrics["methods"]
    assert set(methods) == set(METHODS.split(","))
    oracle = methods["oracle"]["accuracy_mean"]
    assert all(m["accuracy_mean"] <= oracle for m in methods.values())
    assert methods["top-k"]["distinct_models"] == 3
    assert methods["all-vote"]["distinct_models"] == 22
    assert set(methods["random-k"]["accuracy_per_seed"]) == {"0", "1"}

    # best-single, recomputed straight from the recordings of the best validation model
    profile = json.loads((out / "profile.json").read_text())
    best = max(profile["accuracy"], key=lambda m: profile["accuracy"][m])
    recording = ReplayStore(shared_data_dir() / "replay" / "mmlu_pro").recording(best)
    items = load_benchmark(shared_data_dir() / "benchmarks", "mmlu_pro", "test", 80)
    right = 0
    for item in items:
        rec = recording.by_question(item.question)
        right += rec is not None and extract_letter(rec.generated_text) == item.answer
    assert methods["best-single"]["accuracy_mean"] == pytest.approx(right / len(items))

    for name in ("report.md", "plots/accuracy.png", "plots/accuracy_per_category.png"):
        assert (out / name).stat().st_size > 500
    with sqlite3.connect(Path(cli_env["SYMOE_DATA_DIR"]) / "symoe.db") as conn:
        assert conn.execute("select status from eval_runs").fetchall() == [("done",)]


@pytest.mark.llamacpp
@pytest.mark.embeddings
@pytest.mark.slow
def test_eval_on_the_local_llamacpp_experts(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "local"
    proc = subprocess.run(
        [
            *SYMOE,
            "eval",
            "run",
            "--benchmark",
            "arc_challenge",
            "--split",
            "test",
            "--limit",
            "4",
            "--methods",
            "symoe,best-single",
            "--aggregation",
            "llm",
            "--profile-split",
            "none",
            "--max-tokens",
            "24",
            "--out",
            str(out),
        ],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [
        json.loads(line)
        for line in (out / "predictions/symoe__seed0.jsonl").read_text().splitlines()
    ]
    assert len(rows) == 4
    assert all(r["aggregator"] in {"smollm2-135m", "gemma3-270m"} for r in rows)
    assert all(r["completion_tokens"] > 0 for r in rows)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["methods"]["symoe"]["loads_per_stage"]["experts"] >= 1
