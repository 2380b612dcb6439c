"""Benchmark items read where they lie (settings.benchmarks_dir). The evaluation issue grows
this into a full loader registry; profiling needs validation splits with gold answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from orchestrator.answers import AnswerFormat
from orchestrator.errors import InputError


class BenchItem(BaseModel):
    id: str
    question: str
    answer: str
    fmt: AnswerFormat
    category: str = ""


def _paper_split(file_stem: str, fmt: AnswerFormat) -> Callable[[Path, str], list[BenchItem]]:
    """The exact Symbolic-MoE splits: `train` is the paper's validation set, `test` its test."""

    def load(root: Path, split: str) -> list[BenchItem]:
        if split not in ("train", "test"):
            raise InputError(f"unknown split {split!r} for this benchmark (known: train, test)")
        path = root / "symbolic_moe_splits" / f"{file_stem}_{split}.json"
        rows = _read_json_list(path)
        items = []
        for i, row in enumerate(rows):
            try:
                items.append(
                    BenchItem(
                        id=f"{file_stem}-{split}-{i}",
                        question=row["question"],
                        answer=str(row["gold_answer"]).strip(),
                        fmt=fmt,
                        category=str(row.get("category", "")),
                    )
                )
            except (KeyError, TypeError):
                raise InputError(f"{path}: item {i} lacks question or gold_answer") from None
        return items

    return load


def _arc_challenge(root: Path, split: str) -> list[BenchItem]:
    if split != "test":
        raise InputError(f"unknown split {split!r} for arc_challenge (known: test)")
    path = root / "arc_challenge" / "arc_challenge.jsonl"
    items = []
    for line_no, row in _read_jsonl(path):
        try:
            options = " ".join(f"({chr(65 + j)}) {c}" for j, c in enumerate(row["choices"]))
            items.append(
                BenchItem(
                    id=f"arc-{line_no}",
                    question=f"{row['query']} The options are: {options}",
                    answer=chr(65 + int(row["gold"])),
                    fmt="letter",
                )
            )
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{path}:{line_no}: expected query, choices and gold") from None
    return items


def _read_json_list(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"benchmark file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg})") from None
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a JSON list")
    return data


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise InputError(f"benchmark file not found: {path}") from None
    out = []
    for n, line in enumerate(lines, start=1):
        if line.strip():
            try:
                out.append((n, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{n}: malformed JSON ({exc.msg})") from None
    return out


LOADERS: dict[str, Callable[[Path, str], list[BenchItem]]] = {
    "mmlu_pro": _paper_split("MMLU_Pro", "letter"),
    "medmcqa": _paper_split("MedMCQA", "letter"),
    "arc_challenge": _arc_challenge,
}


def load_benchmark(root: Path, name: str, split: str, limit: int | None = None) -> list[BenchItem]:
    try:
        loader = LOADERS[name]
    except KeyError:
        raise InputError(f"unknown benchmark {name!r} (known: {', '.join(LOADERS)})") from None
    items = loader(root, split)
    return items[:limit] if limit else items


def is_correct(predicted: str | None, gold: str, fmt: AnswerFormat) -> bool:
    if predicted is None:
        return False
    if fmt == "number":
        try:
            return abs(float(predicted) - float(gold)) < 1e-6
        except ValueError:
            return False
    return predicted.strip().lower() == gold.strip().lower()
