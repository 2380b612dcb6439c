"""ARC-Challenge test (llm-foundry's copy: query, choices, gold index)."""

from __future__ import annotations

from pathlib import Path

from orchestrator.benchmarks.base import (
    BenchItem,
    Benchmark,
    at,
    letter,
    read_jsonl,
    render_options,
)


def _test(root: Path) -> list[BenchItem]:
    path = root / "arc_challenge" / "arc_challenge.jsonl"
    items = []
    for line, row in read_jsonl(path):
        with at(f"{path}:{line}"):
            items.append(
                BenchItem(
                    id=f"arc-{line}",
                    question=render_options(row["query"], [str(c) for c in row["choices"]]),
                    answer=letter(int(row["gold"])),
                    fmt="letter",
                )
            )
    return items


ARC_CHALLENGE = Benchmark("arc_challenge", {"test": _test})
