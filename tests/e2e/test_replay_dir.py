"""SYMOE_REPLAY_DIR points the replay pool at another folder of recordings; an expert's own
options.replay_dir wins over it; a misspelt SYMOE_ variable is named on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]
QUESTIONS = [("q-1", "What is 2+2?", ["4", "5"]), ("q-2", "Name a prime.", ["8", "7"])]


def _recordings(folder: Path, model: str, texts: list[str]) -> Path:
    """A small recording in the MMLU-Pro replay layout (one zip per model)."""
    folder.mkdir(parents=True, exist_ok=True)
    records = [
        {
            "question_id": qid,
            "question": question,
            "options": options,
            "answer": "A",
            "answer_index": 0,
            "category": "math",
            "src": "synthetic",
            "pred": "A",
            "generated_text": text,
        }
        for (qid, question, options), text in zip(QUESTIONS, texts, strict=True)
    ]
    path = folder / f"model_outputs_{model}_5shots.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"model_outputs_{model}_5shots.json", json.dumps(records))
    return folder


def test_the_replay_pool_reads_where_symoe_replay_dir_points(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    right = ["The answer is (A).", "The answer is (B)."]
    pool = _recordings(tmp_path / "pool", "rec-one", right)
    _recordings(pool, "rec-two", right)
    own = _recordings(tmp_path / "own", "rec-three", right)  # not in the pool folder
    experts = tmp_path / "experts.yaml"
    experts.write_text(
        "experts:\n"
        "  - {name: rec-one, backend: replay, model: rec-one, memory_mb: 0}\n"
        "  - {name: rec-two, backend: replay, model: rec-two, memory_mb: 0}\n"
        "  - {name: rec-three, backend: replay, model: rec-three, memory_mb: 0, "
        f"options: {{replay_dir: {json.dumps(str(own))}}}}}\n"
    )
    data = tmp_path / "mine.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": qid, "question": q, "choices": opts, "answer": gold}) + "\n"
            for (qid, q, opts), gold in zip(QUESTIONS, ["4", "7"], strict=True)
        )
    )
    env = {
        **cli_env,
        "SYMOE_EXPERTS_FILE": str(experts),
        "SYMOE_PROFILE_FILE": "",
        "SYMOE_REPLAY_DIR": str(pool),
    }
    out = tmp_path / "run"
    args = ["eval", "run", "--benchmark", "generic", "--split", str(data), "--out", str(out)]
    args += ["--methods", "all-vote", "--tagger", "category"]
    proc = subprocess.run([*SYMOE, *args], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "not a symoe setting" not in proc.stderr
    rows = [json.loads(line) for line in (out / "predictions/all-vote__seed0.jsonl").open()]
    assert [(r["gold"], r["pred"], r["correct"]) for r in rows] == [
        ("A", "A", True),
        ("B", "B", True),
    ]
    assert sorted(rows[0]["experts"]) == ["rec-one", "rec-three", "rec-two"]


def test_a_misspelt_variable_is_named_on_stderr(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "SYMOE_REPLAYDIR": "/somewhere"}
    proc = subprocess.run(
        [*SYMOE, "experts", "list"], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("SYMOE_REPLAYDIR is not a symoe setting") == 1
    assert "did you mean SYMOE_REPLAY_DIR?" in proc.stderr
