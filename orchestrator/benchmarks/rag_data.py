"""The retrieval QA sets' files (shared_data_dir/rag, see its SOURCES.md), read once for the
benchmark loaders and for the corpora the document store ingests (`rag_corpora.py`).

The sets lie beside the benchmarks folder (`<shared_data_dir>/rag`, while the loaders are
handed `<shared_data_dir>/benchmarks`); a `rag` folder inside the benchmarks root wins."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from orchestrator.benchmarks.base import read_json_object, read_jsonl
from orchestrator.errors import InputError

HOTPOT_FILES = ("rpt_train", "rpt_dev", "rpt_test")
BOOLQ_SPLIT_SEED = 20240  # the fixed seed of BoolQ's fit/test halves (see boolq_halves)


def rag_dir(root: Path) -> Path:
    """The RAG sets' folder for the benchmarks root `root`."""
    inside = root / "rag"
    return inside if inside.is_dir() else root.parent / "rag"


def hotpot_rows(
    root: Path, files: tuple[str, ...] = HOTPOT_FILES
) -> list[tuple[str, dict[str, Any]]]:
    """HotpotQA rows (HF hotpot_qa/distractor schema) of the named files, in file order, each
    with 'FILE:LINE' for errors."""
    rows: list[tuple[str, dict[str, Any]]] = []
    for name in files:
        path = rag_dir(root) / "hotpotqa" / f"{name}.jsonl"
        rows.extend((f"{path}:{line}", row) for line, row in read_jsonl(path))
    return rows


def pubmed_records(root: Path) -> dict[str, dict[str, Any]]:
    """PubMedQA PQA-L: PMID -> record (QUESTION, CONTEXTS, LABELS, final_decision, ...)."""
    path = rag_dir(root) / "pubmedqa" / "ori_pqal.json"
    records = read_json_object(path)
    for pmid, record in records.items():
        if not isinstance(record, dict):
            raise InputError(f"{path}: record {pmid!r} is not a JSON object")
    return records


def pubmed_test_pmids(root: Path) -> set[str]:
    """The official 500-PMID test split (test_ground_truth.json: PMID -> yes/no/maybe)."""
    return set(read_json_object(rag_dir(root) / "pubmedqa" / "test_ground_truth.json"))


def boolq_rows(root: Path) -> list[tuple[str, dict[str, Any]]]:
    """BoolQ dev (SuperGLUE val.jsonl: question, passage, idx, label), each with 'FILE:LINE'."""
    path = rag_dir(root) / "boolq" / "val.jsonl"
    return [(f"{path}:{line}", row) for line, row in read_jsonl(path)]


def boolq_halves(indices: list[int]) -> tuple[set[int], set[int]]:
    """(fit, test): the sorted idx values shuffled with random.Random(BOOLQ_SPLIT_SEED), the
    first half (rounded down) to fit, the rest to test."""
    shuffled = sorted(indices)
    random.Random(BOOLQ_SPLIT_SEED).shuffle(shuffled)
    half = len(shuffled) // 2
    return set(shuffled[:half]), set(shuffled[half:])
