"""The README table of one RAG set from bench/rag_gates.sh's outputs: answer quality, retrieval
rate, added prompt tokens, search and total seconds of the test split per gate, with what each
gate saves against always-retrieve (retrieval calls and passage tokens), and the fitted gates'
decision accuracy on the held-out part of the fit split's labels.

    .venv/bin/python bench/rag_gates_table.py /tmp/symoe-rag-gates/hotpotqa
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

GATES = ("never", "always", "skr_knn", "expert_rag")
METHOD = "best-single"


def _metrics(run: Path) -> dict[str, Any] | None:
    path = run / "metrics.json"
    if not path.is_file():
        return None
    method: dict[str, Any] = json.loads(path.read_text())["methods"][METHOD]
    return method


def answers_table(root: Path) -> str:
    runs = {gate: _metrics(root / f"test-{gate}") for gate in GATES}
    always = runs["always"]
    free = any(m is not None and "f1_mean" in m for m in runs.values())
    quality = "| EM | F1 " if free else "| accuracy "
    lines = [
        f"| gate {quality}| retrieved | passage tokens | saved vs always: calls / tokens "
        "| search s | seconds |",
        "|---" + "|---:" * (7 if free else 6) + "|",
    ]
    for gate, m in runs.items():
        if m is None:
            lines.append(f"| {gate} | not run |")
            continue
        scores = (
            f"{100 * m['em_mean']:.1f} | {100 * m['f1_mean']:.1f}"
            if free
            else f"{100 * m['accuracy_mean']:.1f}"
        )
        saved = "-"
        if always is not None and always["retrieval_rate"]:
            calls = 1 - m["retrieval_rate"] / always["retrieval_rate"]
            tokens = 1 - m["retrieval_prompt_tokens"] / max(always["retrieval_prompt_tokens"], 1)
            saved = f"{calls:.0%} / {tokens:.0%}"
        lines.append(
            f"| {gate} | {scores} | {m['retrieval_rate']:.0%} "
            f"| {m['retrieval_prompt_tokens']:,.0f} | {saved} | {m['search_seconds']:.1f} "
            f"| {m['seconds']:.0f} |"
        )
    return "\n".join(lines)


def decisions_table(root: Path) -> str:
    lines = [
        "| gate (fitted on the fit split's labels) | held out | accuracy (all) "
        "| accuracy (ir_better/ir_worse) | retrieval rate |",
        "|---|---:|---:|---:|---:|",
    ]
    seen: set[str] = set()
    for fitted in ("skr_knn", "expert_rag"):
        path = root / f"gate-{fitted}.json"
        if not path.is_file() or not path.read_text().strip():
            lines.append(f"| {fitted} | not fitted | | | |")
            continue
        result = json.loads(path.read_text())
        for name, s in result["scores"].items():
            if name in seen:
                continue
            seen.add(name)
            label = f"{name} (k={result['k']})" if name == fitted else name
            lines.append(
                f"| {label} | {s['n']} | {s['accuracy']:.3f} | "
                f"{s['informative_accuracy']:.3f} (n={s['n_informative']}) "
                f"| {s['retrieval_rate']:.0%} |"
            )
    return "\n".join(lines)


def label_counts(root: Path) -> str:
    path = root / "labels.json"
    if not path.is_file():
        return "no labels"
    labels = [row["judgement"] for row in json.loads(path.read_text())]
    counts = ", ".join(f"{labels.count(j)} {j}" for j in ("ir_better", "ir_worse", "same"))
    return f"{len(labels)} fit questions labelled: {counts}"


if __name__ == "__main__":
    root = Path(sys.argv[1])
    print(f"{root.name}: {label_counts(root)}\n")
    print(answers_table(root) + "\n")
    print(decisions_table(root))
