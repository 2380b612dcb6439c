"""The exact Symbolic-MoE splits (symbolic_moe_splits/<Stem>_<split>.json): `train` is the
paper's validation set, `test` its test set. Questions already carry their options."""

from __future__ import annotations

from pathlib import Path

from orchestrator.answers import AnswerFormat
from orchestrator.benchmarks.base import BenchItem, SplitLoader, at, read_json_list

PAPER_SPLITS = ("train", "test")


def paper_split(file_stem: str, split: str, fmt: AnswerFormat) -> SplitLoader:
    """Items get stable ids '<Stem>-<split>-<i>' (i: position in the file)."""

    def load(root: Path) -> list[BenchItem]:
        path = root / "symbolic_moe_splits" / f"{file_stem}_{split}.json"
        items = []
        for i, (where, row) in enumerate(read_json_list(path)):
            with at(where):
                items.append(
                    BenchItem(
                        id=f"{file_stem}-{split}-{i}",
                        question=row["question"],
                        answer=str(row["gold_answer"]).strip(),
                        fmt=fmt,
                        category=str(row.get("category") or ""),
                    )
                )
        return items

    return load


def paper_splits(file_stem: str, fmt: AnswerFormat) -> dict[str, SplitLoader]:
    return {split: paper_split(file_stem, split, fmt) for split in PAPER_SPLITS}
