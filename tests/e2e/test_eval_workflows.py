"""`symoe eval run --methods symoe --workflows research` in real processes over scripted
experts: both streams' rows, their cost beside accuracy in metrics.json, report.md and the
printed table, a rerun that computes nothing again, and an unknown workflow refused in one
line before anything is written."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]
PLAN = {
    "questions": [
        {"type": "question", "description": "How dense is ice?"},
        {"type": "question", "description": "How dense is water?"},
    ]
}
ROLE_REPLIES = {  # research.yaml's roles, played by a scripted smollm2-135m
    "Break this hard question": json.dumps(PLAN),
    "How well do the sub-questions cover": json.dumps({"score": 0.9, "reason": "covers it"}),
    "Check this answer to a question": json.dumps(
        {"consistency": 0.9, "support": 0.9, "reason": "fine"}
    ),
    "Here are numbered answers": "Ice is lighter [1][2]. The answer is (B).",
    # the deployment's llm tagger, for the sub-questions symoe answers inside the workflow
    "What are the core knowledge": "Keywords: physics, chemistry",
}


@pytest.fixture
def env(cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    experts: list[dict[str, Any]] = [
        {"name": f"e{i}", "backend": "scripted", "model": f"e{i}",
         "roles": ["expert", "aggregator"], "options": {"default": "The answer is (B)."}}
        for i in range(3)
    ]  # fmt: skip
    experts.append(
        {"name": "smollm2-135m", "backend": "scripted", "model": "s", "roles": ["tagger"],
         "options": {"responses": ROLE_REPLIES, "features": ["json_schema"]}}
    )  # fmt: skip
    path = tmp_path / "experts.yaml"
    path.write_text(json.dumps({"experts": experts}))  # JSON is YAML
    return {
        **cli_env,
        "SYMOE_EXPERTS_FILE": str(path),
        "SYMOE_PROFILE_FILE": "",
        "SYMOE_TAGGER": "llm",
    }


def _items(path: Path) -> Path:
    rows = [
        {"id": "ice", "question": "Why does ice float? (A) heavier (B) less dense", "answer": "B"},
        {"id": "sky", "question": "Why is the sky blue? (A) scattering (B) paint", "answer": "A"},
        {"id": "sun", "question": "Is the sun a star? (A) no (B) yes", "answer": "B"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _eval(
    env: dict[str, str], items: Path, out: Path, workflows: str
) -> subprocess.CompletedProcess[str]:
    args = ["eval", "run", "--benchmark", "generic", "--split", str(items), "--limit", "2",
            "--methods", "symoe", "--workflows", workflows, "--tagger", "category",
            "--profile-split", "none", "--aggregation", "vote", "--out", str(out)]  # fmt: skip
    return subprocess.run([*SYMOE, *args], env=env, capture_output=True, text=True, timeout=300)


def _rows(out: Path, stream: str) -> list[dict[str, Any]]:
    path = out / "predictions" / f"{stream}__seed0.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_research_beside_symoe_with_cost(env: dict[str, str], tmp_path: Path) -> None:
    items, out = _items(tmp_path / "items.jsonl"), tmp_path / "run"
    done = _eval(env, items, out, "research")
    assert done.returncode == 0, done.stderr

    symoe, research = _rows(out, "symoe"), _rows(out, "workflow-research")
    assert [r["item_id"] for r in symoe] == [r["item_id"] for r in research] == ["ice", "sky"]
    assert [r["correct"] for r in symoe] == [True, False]  # every expert answers (B)
    assert [r["pred"] for r in research] == ["B", "B"]
    assert [r["correct"] for r in research] == [True, False]
    assert all(r["error"] is None and r["run_id"] for r in research)
    assert all(r["model_calls"] == 3 for r in symoe)  # 3 experts, a vote
    # the planner, the judge, per sub-question 3 experts (a vote, as --aggregation says) and
    # a check, the synthesizer (the tagger's calls are not traced, for either stream)
    assert all(r["model_calls"] == 1 + 1 + 2 * (3 + 1) + 1 for r in research)

    metrics = json.loads((out / "metrics.json").read_text())["methods"]
    assert list(metrics) == ["symoe", "workflow-research"]
    for name, rows in (("symoe", symoe), ("workflow-research", research)):
        m = metrics[name]
        assert m["accuracy_mean"] == 0.5
        assert m["model_calls"] == sum(r["model_calls"] for r in rows) > 0
        assert m["prompt_tokens"] == sum(r["prompt_tokens"] for r in rows) > 0
        assert m["completion_tokens"] > 0 and m["seconds"] > 0
    assert metrics["workflow-research"]["model_calls"] > metrics["symoe"]["model_calls"]
    assert metrics["workflow-research"]["committee_oracle_mean"] is None

    report = (out / "report.md").read_text()
    assert "| Model calls | Prompt tokens |" in report
    calls = f"| {metrics['workflow-research']['model_calls']:,.0f} |"
    assert any(line.startswith("| workflow-research") and calls in line
               for line in report.splitlines())  # fmt: skip
    assert "workflow-research" in done.stdout and "model calls" in done.stdout

    # the same command again: every item is done, no workflow runs again
    again = _eval(env, items, out, "research")
    assert again.returncode == 0, again.stderr
    assert _rows(out, "workflow-research") == research
    with sqlite3.connect(Path(env["SYMOE_DATA_DIR"]) / "symoe.db") as db:
        assert db.execute("select count(*) from workflow_runs").fetchone() == (2,)


def test_an_unknown_workflow_is_one_line_and_writes_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    done = _eval(env, _items(tmp_path / "items.jsonl"), out, "symoe,nope")
    assert done.returncode == 2
    assert "unknown workflow 'symoe'" in done.stderr and "research" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()
