"""`symoe ask` over recorded real models (replay backend), no local model needed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_data_dir

pytestmark = [
    pytest.mark.replay,
    pytest.mark.embeddings,
    pytest.mark.skipif(not (shared_data_dir() / "replay").is_dir(), reason="no replay data"),
]

SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]
EXPERTS = ["gemini-1.5-flash-002", "Meta-Llama-3_1-70B-Instruct", "Qwen1.5-72B-Chat"]


def _experts_file(tmp_path: Path, on_missing: str) -> Path:
    path = tmp_path / "replay.yaml"
    path.write_text(
        "experts:\n"
        + "".join(
            f"  - {{name: {m}, backend: replay, model: {m}, memory_mb: 0, "
            f"options: {{on_missing: {on_missing}}}}}\n"
            for m in EXPERTS
        )
    )
    return path


def _ask(question: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SYMOE, "ask", question, "--aggregation", "vote", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_recorded_question_is_answered_by_vote(cli_env: dict[str, str], tmp_path: Path) -> None:
    rows = json.loads(
        (shared_data_dir() / "benchmarks/symbolic_moe_splits/MMLU_Pro_test.json").read_text()
    )
    question = rows[3]["question"]  # two dice, gold E
    env = {
        **cli_env,
        "SYMOE_EXPERTS_FILE": str(_experts_file(tmp_path, "error")),
        "SYMOE_PROFILE_FILE": "",
    }
    proc = _ask(question, env)
    assert proc.returncode == 0, proc.stderr
    trace = json.loads(proc.stdout)
    assert {c["expert"] for c in trace["calls"]} <= set(EXPERTS)
    assert all(len(c["text"]) > 20 for c in trace["calls"]), "recorded chains of thought"
    assert trace["extracted_answer"] == rows[3]["gold_answer"]
    assert trace["recruitment"]["notes"][0] == "no profile set: uniform weights"


def test_an_unrecorded_question_is_a_clear_error(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = {
        **cli_env,
        "SYMOE_EXPERTS_FILE": str(_experts_file(tmp_path, "error")),
        "SYMOE_PROFILE_FILE": "",
    }
    proc = _ask("What colour is a ripe banana? The options are: (A) blue (B) yellow", env)
    assert proc.returncode == 1
    assert "has no recording of question" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_profile_built_now_makes_the_chosen_method_the_default(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    """`symoe profile build` fits the learned aggregator's weights into the profile set; with
    it active, a plain `symoe ask` recruits with `ranked` and aggregates with `learned`."""
    env = {**cli_env, "SYMOE_EXPERTS_FILE": str(_experts_file(tmp_path, "empty"))}
    build = subprocess.run(
        [*SYMOE, "profile", "build", "--benchmark", "mmlu_pro", "--split", "train"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr
    rows = json.loads(
        (shared_data_dir() / "benchmarks/symbolic_moe_splits/MMLU_Pro_test.json").read_text()
    )
    proc = subprocess.run(
        [*SYMOE, "ask", rows[3]["question"], "--json", "--cascade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    trace = json.loads(proc.stdout)
    recruitment = trace["recruitment"]
    assert (recruitment["recruiter"], recruitment["aggregation"]) == ("ranked", "learned")
    assert set(recruitment["expected_accuracy"]) == set(recruitment["drawn"])
    assert trace["extracted_answer"] in "ABCDEFGHIJ"
    assert 2 <= sum(c["stage"] == "experts" for c in trace["calls"]) <= 3
