"""ARC-Challenge test (llm-foundry's copy: query, choices, gold index)."""

from __future__ import annotations

from pathlib import Path

from orchestrator.benchmarks.base import (
    BenchItem,
    Benchmark,
    jsonl_items,
    letter,
    render_options,
)


def _test(root: Path) -> list[BenchItem]:
    return jsonl_items(
        root / "arc_challenge" / "arc_challenge.jsonl",
        lambda line, row: BenchItem(
            id=f"arc-{line}",
            question=render_options(row["query"], [str(c) for c in row["choices"]]),
            answer=letter(int(row["gold"])),
            fmt="letter",
        ),
    )


ARC_CHALLENGE = Benchmark("arc_challenge", {"test": _test})
