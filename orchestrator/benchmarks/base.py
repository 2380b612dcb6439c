"""The benchmark item, the registry entry, and readers whose errors name the file and line."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from orchestrator.answers import AnswerFormat
from orchestrator.errors import InputError


class BenchItem(BaseModel):
    id: str
    question: str
    answer: str
    fmt: AnswerFormat
    category: str = ""
    # the source's own id (MMLU-Pro question_id, GPQA Record ID, ...), for replay matching
    question_id: str | None = None


SplitLoader = Callable[[Path], list[BenchItem]]
"""Reads one split from the benchmarks root (settings.benchmarks_dir)."""


@dataclass(frozen=True)
class Benchmark:
    """One registry entry: a name and its splits. Calling it loads a split by name."""

    name: str
    splits: Mapping[str, SplitLoader]

    def __call__(self, root: Path, split: str) -> list[BenchItem]:
        try:
            loader = self.splits[split]
        except KeyError:
            known = ", ".join(self.splits)
            raise InputError(f"unknown split {split!r} for {self.name} (known: {known})") from None
        return loader(root)


@contextmanager
def at(where: str) -> Iterator[None]:
    """Turn a bad row (missing key, wrong type) into an InputError that says where it is."""
    try:
        yield
    except InputError:
        raise
    except KeyError as exc:
        raise InputError(f"{where}: missing field {exc.args[0]!r}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{where}: bad value for {field!r} ({first['msg']})") from None
    except (TypeError, ValueError, IndexError, AttributeError) as exc:
        raise InputError(f"{where}: bad row ({exc})") from None


def letter(index: int) -> str:
    if not 0 <= index < 10:
        raise ValueError(f"choice index {index} is outside A-J")
    return chr(ord("A") + index)


_OWN_LABEL = re.compile(r"^\s*\(?([A-J])[.)]\s+")


def strip_label(choice: str, index: int) -> str:
    """'A. foo' or '(A) foo' at position A becomes 'foo'; other text is kept as is."""
    found = _OWN_LABEL.match(choice)
    if found and found.group(1) == letter(index):
        return choice[found.end() :]
    return choice


def render_options(
    question: str, choices: Sequence[str], sep: str = " ", trailing: str = ""
) -> str:
    """The paper splits' layout: '<question> The options are: (A) x (B) y'."""
    options = " ".join(f"({letter(i)}) {strip_label(c, i)}" for i, c in enumerate(choices))
    return f"{question}{sep}The options are: {options}{trailing}"


# Refused when read, not after a run: PostgreSQL cannot store it, and the run's work is lost.
_NUL = "a NUL character (0x00), which the database cannot store"


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"benchmark file not found: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a file") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: not UTF-8 text ({exc.reason})") from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError(f"{path}:{line}: {_NUL}")
    return text


def _has_nul(value: object) -> bool:
    """Whether a decoded JSON value holds a NUL (a \\u0000 escape) anywhere."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _read_json(path: Path) -> Any:
    try:
        return json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg})") from None


def read_json_list(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """A JSON file holding a list of objects, each paired with 'FILE: item N' for errors."""
    data = _read_json(path)
    if not isinstance(data, list):
        raise InputError(f"{path}:1: expected a JSON list of objects")
    out = []
    for i, row in enumerate(data):
        if not isinstance(row, dict):
            raise InputError(f"{path}: item {i} is not a JSON object")
        if _has_nul(row):
            raise InputError(f"{path}: item {i}: {_NUL}")
        out.append((f"{path}: item {i}", row))
    return out


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON file holding one object (e.g. id -> record)."""
    data = _read_json(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}:1: expected a JSON object")
    if _has_nul(data):
        raise InputError(f"{path}: {_NUL}")
    return data


def read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """One JSON object a line (blank lines skipped), each with its 1-based line number."""
    out = []
    for n, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{n}: malformed JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise InputError(f"{path}:{n}: expected a JSON object")
        if _has_nul(row):
            raise InputError(f"{path}:{n}: {_NUL}")
        out.append((n, row))
    return out


def jsonl_items(path: Path, build: Callable[[int, dict[str, Any]], BenchItem]) -> list[BenchItem]:
    """One item per JSONL row; a bad row's error names the file and line."""
    items = []
    for line, row in read_jsonl(path):
        with at(f"{path}:{line}"):
            items.append(build(line, row))
    return items


def read_csv(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Rows keyed by the header, each with the line its record starts on (fields may span
    lines). A row with the wrong number of cells is an error, not silently padded."""
    reader = csv.reader(_read_text(path).splitlines(keepends=True), strict=True)
    out: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    start = 1
    try:
        for cells in reader:
            if header is None:
                header = [h.strip() for h in cells]
            elif cells:
                if len(cells) != len(header):
                    raise InputError(
                        f"{path}:{start}: expected {len(header)} columns, found {len(cells)}"
                    )
                out.append((start, dict(zip(header, cells, strict=True))))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
    if header is None:
        raise InputError(f"{path}:1: empty CSV file (no header row)")
    return out
