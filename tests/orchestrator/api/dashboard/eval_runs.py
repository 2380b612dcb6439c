"""Eval run folders made by the real `symoe eval run` (the CLI command, in this process) on a
small generic benchmark answered by scripted experts: what the dashboard's eval pages read."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from orchestrator.cli.main import app

# Four questions, each with its gold letter; an expert answers from `answers`.
QUESTIONS = [
    ("q0", "Which is a prime? (A) 4 (B) 7 (C) 9", "B", "numbers"),
    ("q1", "Which is a colour? (A) red (B) run (C) rock", "A", "words"),
    ("q2", "Which is even? (A) 3 (B) 5 (C) 8", "C", "numbers"),
    ("q3", "Which is a fruit? (A) stone (B) pear (C) chair", "B", "words"),
]


def _experts(path: Path, answers: dict[str, str]) -> Path:
    """Two experts that answer question `qN` with answers[qN] (default: the gold)."""
    responses = {
        text: f"The answer is ({answers.get(qid, gold)})." for qid, text, gold, _ in QUESTIONS
    }
    experts = [
        {"name": name, "backend": "scripted", "model": f"scripted/{name}",
         "roles": ["expert", "aggregator"],
         "options": {"default": "The answer is (A).", "responses": responses}}
        for name in ("alpha", "beta")
    ]  # fmt: skip
    path.write_text(yaml.safe_dump({"experts": experts}))
    return path


def make_eval_run(
    out: Path,
    work: Path,
    answers: dict[str, str] | None = None,
    methods: str = "symoe,best-single",
    split_name: str = "items.jsonl",
) -> Path:
    """`symoe eval run --benchmark generic` into `out`, with its own data dir under `work`
    and the items in `work/split_name` (the split the run's pages show); every item right
    unless `answers` says otherwise. Returns `out`."""
    work.mkdir(parents=True, exist_ok=True)
    split = work / split_name
    split.write_text(
        "".join(
            json.dumps({"id": qid, "question": text, "answer": gold, "category": cat}) + "\n"
            for qid, text, gold, cat in QUESTIONS
        )
    )
    env = {
        "SYMOE_DATA_DIR": str(work / "home"),
        "SYMOE_EXPERTS_FILE": str(_experts(work / "experts.yaml", answers or {})),
        "SYMOE_PROFILE_FILE": "",
        "HF_HUB_OFFLINE": "1",
    }
    args = ["eval", "run", "--benchmark", "generic", "--split", str(split), "--out", str(out)]
    args += ["--methods", methods, "--tagger", "category", "--k", "2", "--seeds", "0,1"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert (out / "metrics.json").is_file(), result.output
    return out
