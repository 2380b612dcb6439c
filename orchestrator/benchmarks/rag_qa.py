"""The retrieval QA sets as benchmarks (files in shared_data_dir/rag, see rag_data.py). Each
item holds the question only: the passages are the document store's (`rag_corpora.py`,
`symoe docs add-corpus NAME`), found by retrieval.

- `hotpotqa`: HotpotQA distractor dev questions sampled by RPT. Splits are the files
  `rpt_train` (300), `rpt_dev` (300) and `rpt_test` (500), plus `fit` (rpt_train + rpt_dev)
  and `test` (rpt_test). Free-form answers, graded by EM and F1 (`qa_metrics.py`); the
  category is the question type, bridge or comparison.
- `pubmedqa`: PubMedQA PQA-L, `test` the official 500 PMIDs of test_ground_truth.json and
  `fit` the other 500, in file order. Answers yes, no or maybe (format `yesno`).
- `boolq`: BoolQ dev (3270 questions). `fit` and `test` are halves of the idx values, fixed by
  a seeded shuffle: sorted idx shuffled with random.Random(20240) (`BOOLQ_SPLIT_SEED`), the
  first 1635 to `fit`, the other 1635 to `test`, each in file order. Labels true/false are
  the answers yes/no (format `yesno`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from orchestrator.benchmarks.base import BenchItem, Benchmark, SplitLoader, at
from orchestrator.benchmarks.rag_data import (
    HOTPOT_FILES,
    boolq_halves,
    boolq_rows,
    hotpot_rows,
    pubmed_records,
    pubmed_test_pmids,
)

_YESNO = ("yes", "no", "maybe")
_BOOLQ_LABELS = {"true": "yes", "false": "no"}


def _hotpot(files: tuple[str, ...]) -> SplitLoader:
    def load(root: Path) -> list[BenchItem]:
        items = []
        for where, row in hotpot_rows(root, files):
            with at(where):
                qid = str(row["id"])
                items.append(
                    BenchItem(
                        id=f"hotpotqa-{qid}",
                        question=str(row["question"]).strip(),
                        answer=str(row["answer"]).strip(),
                        fmt="free",
                        category=str(row["type"]),
                        question_id=qid,
                    )
                )
        return items

    return load


def _pubmed(in_test: bool) -> SplitLoader:
    def load(root: Path) -> list[BenchItem]:
        test = pubmed_test_pmids(root)
        items = []
        for pmid, record in pubmed_records(root).items():
            if (pmid in test) != in_test:
                continue
            with at(f"pubmedqa PMID {pmid}"):
                answer = str(record["final_decision"]).strip().lower()
                if answer not in _YESNO:
                    raise ValueError(f"final_decision {answer!r} is not yes, no or maybe")
                items.append(
                    BenchItem(
                        id=f"pubmedqa-{pmid}",
                        question=str(record["QUESTION"]).strip(),
                        answer=answer,
                        fmt="yesno",
                        question_id=pmid,
                    )
                )
        return items

    return load


def _boolq(half: Callable[[tuple[set[int], set[int]]], set[int]]) -> SplitLoader:
    def load(root: Path) -> list[BenchItem]:
        rows = boolq_rows(root)
        with at("boolq idx"):
            chosen = half(boolq_halves([int(row["idx"]) for _, row in rows]))
        items = []
        for where, row in rows:
            with at(where):
                if int(row["idx"]) not in chosen:
                    continue
                label = str(row["label"]).strip().lower()
                if label not in _BOOLQ_LABELS:
                    raise ValueError(f"label {label!r} is not true or false")
                items.append(
                    BenchItem(
                        id=f"boolq-{row['idx']}",
                        question=str(row["question"]).strip(),
                        answer=_BOOLQ_LABELS[label],
                        fmt="yesno",
                        question_id=str(row["idx"]),
                    )
                )
        return items

    return load


HOTPOTQA = Benchmark(
    "hotpotqa",
    {
        **{name: _hotpot((name,)) for name in HOTPOT_FILES},
        "fit": _hotpot(("rpt_train", "rpt_dev")),
        "test": _hotpot(("rpt_test",)),
    },
)
PUBMEDQA = Benchmark("pubmedqa", {"fit": _pubmed(False), "test": _pubmed(True)})
BOOLQ = Benchmark("boolq", {"fit": _boolq(lambda h: h[0]), "test": _boolq(lambda h: h[1])})
