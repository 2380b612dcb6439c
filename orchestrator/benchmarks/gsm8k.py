"""GSM8K (openai/grade-school-math): the answer is the number after '#### '."""

from __future__ import annotations

from pathlib import Path

from orchestrator.benchmarks.base import BenchItem, Benchmark, SplitLoader, jsonl_items


def final_number(solution: str) -> str:
    _, sep, tail = solution.rpartition("####")
    if not sep:
        raise ValueError("answer has no '#### N' line")
    value = tail.strip().replace(",", "")
    float(value)  # a ValueError names a non-numeric gold
    return value


def _split(split: str) -> SplitLoader:
    def load(root: Path) -> list[BenchItem]:
        return jsonl_items(
            root / "gsm8k" / f"{split}.jsonl",
            lambda line, row: BenchItem(
                id=f"gsm8k-{split}-{line}",
                question=row["question"],
                answer=final_number(str(row["answer"])),
                fmt="number",
            ),
        )

    return load


GSM8K = Benchmark("gsm8k", {s: _split(s) for s in ("train", "test")})
