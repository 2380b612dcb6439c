"""MedMCQA: the paper's splits, and the full dev split (medmcqa/validation.jsonl: choices
list, answer index 0-3). The official test answers are hidden, so `dev` is what is scored;
its text is rendered like the paper's test split (which is the same 4183 questions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.benchmarks.base import (
    BenchItem,
    Benchmark,
    jsonl_items,
    letter,
    render_options,
)
from orchestrator.benchmarks.paper_splits import paper_splits


def _dev_item(line: int, row: dict[str, Any]) -> BenchItem:
    choices = [str(c) for c in row["choices"]]
    answer = int(row["answer"])
    if not 0 <= answer < len(choices):
        raise ValueError(f"answer index {answer} outside the {len(choices)} choices")
    return BenchItem(
        id=f"MedMCQA-dev-{line}",
        question=render_options(row["question"], choices),
        answer=letter(answer),
        fmt="letter",
    )


def _dev(root: Path) -> list[BenchItem]:
    return jsonl_items(root / "medmcqa" / "validation.jsonl", _dev_item)


MEDMCQA = Benchmark("medmcqa", {**paper_splits("MedMCQA", "letter"), "dev": _dev})
