"""`symoe ask` end to end with the real llama.cpp models, as a user runs it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]


def run(
    args: list[str], env: dict[str, str], timeout: int = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SYMOE, *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.llamacpp
@pytest.mark.embeddings
@pytest.mark.slow
def test_ask_answers_with_real_models_and_stores_the_trace(cli_env: dict[str, str]) -> None:
    proc = run(["ask", "What is the capital of France?", "--json", "--max-tokens", "24"], cli_env)
    assert proc.returncode == 0, proc.stderr
    trace = json.loads(proc.stdout)
    assert trace["answer"].strip()
    assert trace["tagging"]["skills"], "the embedding tagger names vocabulary skills"
    rec = trace["recruitment"]
    assert len(rec["drawn"]) == 3 and set(rec["drawn"]) <= {"smollm2-135m", "gemma3-270m"}
    assert rec["aggregator"] in {"smollm2-135m", "gemma3-270m"}
    assert rec["profile_set"], "the shipped profile set is used"
    expert_calls = [c for c in trace["calls"] if c["stage"] == "experts"]
    assert len(expert_calls) == 3 and all(c["completion_tokens"] > 0 for c in expert_calls)
    assert [c["expert"] for c in trace["calls"] if c["stage"] == "aggregate"] == [rec["aggregator"]]

    db = Path(cli_env["SYMOE_DATA_DIR"]) / "symoe.db"
    with sqlite3.connect(db) as conn:
        (stored_answer,) = conn.execute(
            "select text from final_answers where query_id = ?", (trace["query_id"],)
        ).fetchone()
        loads = conn.execute("select expert, stage from model_loads").fetchall()
        plan = conn.execute(
            "select aggregator from plans where query_id = ?", (trace["query_id"],)
        ).fetchone()
    assert stored_answer == trace["answer"]
    assert plan == (rec["aggregator"],)
    # each distinct model of the batch loaded exactly once
    assert sorted(e for e, _ in loads) == sorted(set(rec["drawn"]) | {rec["aggregator"]})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", ""], "the question is empty"),
        (["ask", "   "], "the question is empty"),
        (["ask", "x" * 100_000], "longer than the context of every expert"),
        (["ask", "hi", "--experts", "nope"], "unknown expert 'nope'"),
        (["ask", "hi", "--aggregation", "magic"], "unknown aggregation 'magic'"),
        (["ask", "hi", "--tagger", "magic"], "unknown tagger 'magic'"),
    ],
)
def test_bad_input_exits_nonzero_with_one_line(
    cli_env: dict[str, str], args: list[str], message: str
) -> None:
    proc = run(args, cli_env, timeout=120)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_bad_experts_file_and_missing_model(cli_env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("experts:\n  - {name: a, backend: nope, model: m}\n")
    proc = run(["experts", "list"], {**cli_env, "SYMOE_EXPERTS_FILE": str(bad)}, timeout=120)
    assert proc.returncode == 2 and "unknown backend 'nope'" in proc.stderr
    assert "Traceback" not in proc.stderr

    missing = tmp_path / "missing.yaml"
    missing.write_text(
        "experts:\n  - {name: ghost, backend: llamacpp, model: /nonexistent/ghost.gguf, "
        "roles: [expert, aggregator]}\n"
    )
    env = {**cli_env, "SYMOE_EXPERTS_FILE": str(missing), "SYMOE_PROFILE_FILE": ""}
    proc = run(["ask", "What is 2+2?", "--aggregation", "vote"], env, timeout=300)
    assert proc.returncode == 1
    assert "/nonexistent/ghost.gguf" in proc.stderr
    assert "Traceback" not in proc.stderr
