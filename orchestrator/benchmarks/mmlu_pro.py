"""MMLU-Pro: the paper's splits, and the full TIGER-Lab release (parquet, 12032 test / 70
validation) rendered the same way, so a paper item's text equals its full-release text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.benchmarks.base import BenchItem, Benchmark, SplitLoader, at, render_options
from orchestrator.benchmarks.paper_splits import paper_split, paper_splits
from orchestrator.errors import InputError
from workers.backends.replay_index import normalise_question


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise InputError(f"benchmark file not found: {path}")
    import pyarrow
    import pyarrow.parquet as pq

    try:
        rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    except (pyarrow.ArrowException, OSError) as exc:
        raise InputError(f"{path}: unreadable parquet file ({exc})") from None
    return rows


def _full(split: str) -> SplitLoader:
    def load(root: Path) -> list[BenchItem]:
        path = root / "mmlu_pro" / f"{split}-00000-of-00001.parquet"
        items = []
        for i, row in enumerate(_read_parquet(path)):
            with at(f"{path}: row {i}"):
                qid = str(row["question_id"])
                items.append(
                    BenchItem(
                        id=qid,
                        question=render_options(row["question"], row["options"], trailing="."),
                        answer=str(row["answer"]).strip().upper(),
                        fmt="letter",
                        category=str(row.get("category") or ""),
                        question_id=qid,
                    )
                )
        return items

    return load


def _outside_test(root: Path) -> list[BenchItem]:
    """The full release's questions whose text is not one of the paper's test questions
    (9,816 of 12,032): validation data for profiles, never the test split."""
    test = {normalise_question(i.question) for i in paper_split("MMLU_Pro", "test", "letter")(root)}
    return [i for i in _full("test")(root) if normalise_question(i.question) not in test]


MMLU_PRO = Benchmark(
    "mmlu_pro", {**paper_splits("MMLU_Pro", "letter"), "outside_test": _outside_test}
)
MMLU_PRO_FULL = Benchmark("mmlu_pro_full", {s: _full(s) for s in ("test", "validation")})
