"""Benchmarks read where they lie (settings.benchmarks_dir), by name and split:

    load_benchmark(root, "gpqa", "diamond", limit=20)
    load_benchmark(root, "generic", "/path/to/mine.jsonl", mapping={"question": "q", ...})

`list_benchmarks()` names every benchmark and its splits. For "generic" the split is the
path of a .jsonl or .csv file (relative paths resolve from the working directory) and
`mapping` names its fields; see orchestrator.benchmarks.generic. Every malformed file raises
InputError naming the file and, for JSONL and CSV, the line.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from orchestrator.benchmarks.aime import AIME
from orchestrator.benchmarks.arc import ARC_CHALLENGE
from orchestrator.benchmarks.base import BenchItem, Benchmark
from orchestrator.benchmarks.generic import (
    GenericMapping,
    fields_mapping,
    is_generic_file,
    load_generic,
)
from orchestrator.benchmarks.gpqa import GPQA
from orchestrator.benchmarks.grading import is_correct
from orchestrator.benchmarks.gsm8k import GSM8K
from orchestrator.benchmarks.medmcqa import MEDMCQA
from orchestrator.benchmarks.mmlu import MMLU
from orchestrator.benchmarks.mmlu_pro import MMLU_PRO, MMLU_PRO_FULL
from orchestrator.benchmarks.rag_qa import BOOLQ, HOTPOTQA, PUBMEDQA
from orchestrator.errors import InputError

__all__ = [
    "GENERIC",
    "LOADERS",
    "BenchItem",
    "Benchmark",
    "GenericMapping",
    "fields_mapping",
    "is_correct",
    "is_generic_file",
    "list_benchmarks",
    "load_benchmark",
    "load_generic",
]

LOADERS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        *(MMLU_PRO, MMLU_PRO_FULL, GPQA, AIME, MEDMCQA, GSM8K, ARC_CHALLENGE, MMLU),
        *(HOTPOTQA, PUBMEDQA, BOOLQ),  # retrieval QA sets: shared_data_dir/rag (rag_qa.py)
    )
}

GENERIC = "generic"


def list_benchmarks() -> dict[str, list[str]]:
    """Each benchmark name and its splits ('generic' takes a file path as its split)."""
    return {name: list(b.splits) for name, b in LOADERS.items()} | {GENERIC: ["<file path>"]}


def load_benchmark(
    root: Path,
    name: str,
    split: str,
    limit: int | None = None,
    mapping: Mapping[str, str] | None = None,
) -> list[BenchItem]:
    """The split's items in file order; `limit` keeps the first N (None or 0: all)."""
    if name == GENERIC:
        items = load_generic(Path(split).expanduser(), mapping)
    elif mapping is not None:
        raise InputError(f"a field mapping only applies to the {GENERIC!r} benchmark")
    else:
        try:
            benchmark = LOADERS[name]
        except KeyError:
            known = ", ".join([*LOADERS, GENERIC])
            raise InputError(f"unknown benchmark {name!r} (known: {known})") from None
        items = benchmark(root, split)
    return items[:limit] if limit else items
