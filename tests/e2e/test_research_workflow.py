"""The built-in `research` workflow end to end with the real local models, as a user runs
it: SmolLM2-135M decomposes the question (decoding constrained to the sub-task schema by
llama.cpp's grammar), symoe answers each sub-question with its recruited committee (the
embedding tagger, the local experts, an aggregator), SmolLM2 checks each sub-answer's
consistency and support and synthesises the final answer, written to answer.md."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.llamacpp, pytest.mark.embeddings, pytest.mark.slow]
SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]
QUESTION = "Why does ice float on water?"


def test_research_answers_sub_questions_and_writes_a_cited_answer(
    cli_env: dict[str, str],
) -> None:
    done = subprocess.run(
        [*SYMOE, "workflow", "run", "research", "--input", QUESTION, "--json"],
        env=cli_env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["status"] == "succeeded"
    steps = {s["key"]: s for s in record["steps"]}
    tasks = steps["plan"]["output"]["subtasks"]
    assert 2 <= len(tasks) <= 3 and all(t["type"] == "question" for t in tasks)

    artifacts = Path(cli_env["SYMOE_DATA_DIR"]) / "workflows" / record["id"] / "artifacts"
    kept = steps["answer"]["output"]["accepted"]
    for task in tasks:
        attempt = kept[task["id"]]
        assert attempt["error"] is None, attempt["error"]
        answer = (artifacts / attempt["artifact"]["path"]).read_text()
        assert answer.strip() and attempt["artifact"]["meta"]["answer"] == answer
        scores = {s["dimension"]: s["value"] for s in attempt["scores"]}
        assert set(scores) == {"consistency", "support"}
        assert all(0.0 <= v <= 1.0 for v in scores.values())

    result = steps["synthesize"]["output"]
    assert result["answer"].strip() and result["files"] == ["answer.md"]
    assert set(result["cited"]) <= set(range(1, len(tasks) + 1))
    markdown = (artifacts / "answer.md").read_text()
    assert QUESTION in markdown and result["answer"].strip() in markdown
    for n, task in enumerate(tasks, start=1):
        assert f"### [{n}] {task['fields']['description']}" in markdown

    # every sub-answer went through symoe's planner: a committee of experts and an aggregator
    with sqlite3.connect(Path(cli_env["SYMOE_DATA_DIR"]) / "symoe.db") as db:
        stages = dict(db.execute("select stage, count(*) from model_calls group by stage"))
    assert stages["aggregate"] >= len(tasks) and stages["experts"] >= 3 * len(tasks)
