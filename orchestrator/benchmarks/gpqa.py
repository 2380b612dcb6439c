"""GPQA: the paper's splits, and GPQA Diamond (gpqa/gpqa_diamond.csv). The CSV lists the
correct answer first, so each row's four answers are shuffled by an RNG seeded with its
Record ID: the same letters on every run and machine, not always (A).

Never copy GPQA questions into this repository: its authors ask that they not be published."""

from __future__ import annotations

import random
from pathlib import Path

from orchestrator.benchmarks.base import (
    BenchItem,
    Benchmark,
    at,
    letter,
    read_csv,
    render_options,
)
from orchestrator.benchmarks.paper_splits import paper_splits

_ANSWERS = ("Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3")


def _diamond(root: Path) -> list[BenchItem]:
    path = root / "gpqa" / "gpqa_diamond.csv"
    items = []
    for line, row in read_csv(path):
        with at(f"{path}:{line}"):
            record = row["Record ID"].strip()
            choices = [row[name].strip() for name in _ANSWERS]
            order = list(range(len(choices)))
            # str seeds are hashed with SHA-512, so this is stable across processes
            random.Random(f"gpqa-diamond:{record}").shuffle(order)
            items.append(
                BenchItem(
                    id=f"gpqa-diamond-{record}",
                    question=render_options(
                        row["Question"].strip(), [choices[j] for j in order], sep="\n\n"
                    ),
                    answer=letter(order.index(0)),
                    fmt="letter",
                    category=row.get("High-level domain", "").strip(),
                    question_id=record,
                )
            )
    return items


GPQA = Benchmark("gpqa", {**paper_splits("GPQA", "letter"), "diamond": _diamond})
