"""AIME: the paper's AIME24 splits, and the 2024 and 2025 contests (I and II, 15 each).
Answers are integers 0-999; golds are normalised ('025' -> '25', '336^\\circ' -> '336')."""

from __future__ import annotations

import re
from pathlib import Path

from orchestrator.benchmarks.base import BenchItem, Benchmark, at, read_jsonl
from orchestrator.benchmarks.paper_splits import paper_splits

_DEGREES = re.compile(r"\^\s*\{?\\circ\}?|°")


def integer_answer(raw: object) -> str:
    text = _DEGREES.sub("", str(raw)).strip().strip("$").strip()
    if not re.fullmatch(r"\d+", text):
        raise ValueError(f"answer {raw!r} is not an integer")
    return str(int(text))


def _year_2024(root: Path) -> list[BenchItem]:
    path = root / "aime" / "aime24_test.jsonl"
    items = []
    for line, row in read_jsonl(path):
        with at(f"{path}:{line}"):
            source_id = str(row["id"])
            items.append(
                BenchItem(
                    id=f"AIME-2024-{source_id}",
                    question=row.get("problem") or row["question"],
                    answer=integer_answer(row["answer"]),
                    fmt="number",
                    question_id=source_id,
                )
            )
    return items


def _year_2025(root: Path) -> list[BenchItem]:
    items = []
    for part in ("I", "II"):
        path = root / "aime" / f"aime2025-{part}.jsonl"
        for n, (line, row) in enumerate(read_jsonl(path), start=1):
            with at(f"{path}:{line}"):
                items.append(
                    BenchItem(
                        id=f"AIME-2025-{part}-{n}",
                        question=row["question"],
                        answer=integer_answer(row["answer"]),
                        fmt="number",
                    )
                )
    return items


AIME = Benchmark(
    "aime", {**paper_splits("AIME24", "number"), "2024": _year_2024, "2025": _year_2025}
)
