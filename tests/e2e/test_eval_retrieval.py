"""`symoe eval run --retrieval`: documents ingested with `symoe docs add` reach the expert
prompts as numbered sources, change the answers, and the run counts what retrieval cost.
Scripted experts answer (B) only when the prompt carries the fact; the store, the MiniLM
embeddings, the hybrid retriever and the CLI are real."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.minilm import minilm_or_skip

SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]
FACT = "The Zorblat festival is held in the town of Quenby every March."


def _questions(path: Path) -> Path:
    rows = [
        {"id": n, "question": q, "choices": ["Arvale", "Quenby", "Mossgrove"], "answer": "B"}
        for n, q in enumerate(
            [
                "In which town is the Zorblat festival held?",
                "Where does the Zorblat festival take place every March?",
            ]
        )
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def env(cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    minilm_or_skip()
    options = {"default": "The answer is (A).", "responses": {"Quenby every March": "(B)."}}
    experts = tmp_path / "experts.yaml"
    experts.write_text(
        "experts:\n"
        + "".join(
            f"  - {{name: {n}, backend: scripted, model: {n}, options: {json.dumps(options)}}}\n"
            for n in ("alpha", "beta")
        )
    )
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "festivals.md").write_text(f"# Festivals\n\n{FACT}\n")
    (docs / "weather.txt").write_text("Rain is common in the hills in autumn.\n")
    return {**cli_env, "SYMOE_EXPERTS_FILE": str(experts), "SYMOE_PROFILE_FILE": ""}


def _symoe(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SYMOE, *args], env=env, capture_output=True, text=True, timeout=300)


def test_retrieval_in_an_eval_run(env: dict[str, str], tmp_path: Path) -> None:
    added = _symoe(env, "docs", "add", str(tmp_path / "docs"))
    assert added.returncode == 0, added.stderr
    data = _questions(tmp_path / "zorblat.jsonl")
    rows = {}
    for retrieval in ("never", "always"):
        out = tmp_path / retrieval
        proc = _symoe(
            env, "eval", "run", "--benchmark", "generic", "--split", str(data), "--out", str(out),
            "--methods", "best-single", "--tagger", "category", "--retrieval", retrieval,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        text = (out / "predictions" / "best-single__seed0.jsonl").read_text()
        rows[retrieval] = [json.loads(line) for line in text.splitlines()]
        metrics = json.loads((out / "metrics.json").read_text())["methods"]["best-single"]
        if retrieval == "never":
            assert metrics["accuracy_mean"] == 0.0 and metrics["retrieval_rate"] == 0.0
        else:
            assert metrics["accuracy_mean"] == 1.0 and metrics["retrieval_rate"] == 1.0
            assert metrics["retrieval_prompt_tokens"] > 0 and metrics["search_seconds"] > 0
            assert "Retrieved (%)" in (out / "report.md").read_text()
    assert [(r["pred"], r["retrieved"], r["sources"]) for r in rows["never"]] == [
        ("A", False, []),
        ("A", False, []),
    ]
    for row in rows["always"]:
        assert row["pred"] == "B" and row["retrieved"] is True
        assert str(row["sources"][0]).endswith("festivals.md")  # the fact's document first

    # the two runs label each question by whether retrieval helped these experts
    labels = tmp_path / "labels.json"
    labelled = _symoe(
        env, "gate", "label", "--without", str(tmp_path / "never"),
        "--with", str(tmp_path / "always"), "--out", str(labels),
    )  # fmt: skip
    assert labelled.returncode == 0, labelled.stderr
    assert (
        "wrote 2 labels" in labelled.stderr and "2 ir_better, 0 ir_worse, 0 same" in labelled.stderr
    )
    assert [
        (r["judgement"], r["without_retrieval"], r["with_retrieval"])
        for r in json.loads(labels.read_text())
    ] == [
        ("ir_better", 0.0, 1.0),
        ("ir_better", 0.0, 1.0),
    ]
    swapped = _symoe(
        env, "gate", "label", "--without", str(tmp_path / "always"),
        "--with", str(tmp_path / "never"), "--out", str(labels),
    )  # fmt: skip
    assert swapped.returncode == 2 and "must be without retrieval" in swapped.stderr
