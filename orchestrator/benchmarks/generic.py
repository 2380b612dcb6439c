"""A user's own benchmark: a JSONL or CSV file plus a mapping from BenchItem fields to the
file's field names.

    mapping = {"question": "ctx", "answer": "label",             # defaults: question, answer
               "choices": "endings",                             # a list field, or
               # "choices": "opt_a,opt_b,opt_c,opt_d",           # separate columns
               "id": "ind", "category": "activity_label",        # defaults: id, category
               "fmt": "letter"}                                  # optional, else inferred

On the command line: `--field question=ctx --field choices=endings ...` (`fields_mapping`).
`choices`, `id` and `category` are optional: unmapped, the field of that very name is used
when any row has it. Every field in use must be in every row (an error names file, line and
field); a category may be empty.

With choices the options are rendered '(A) ...' into the question (as the MMLU and ARC loaders
do), the format is 'letter', and the gold may be a choice's text, its letter, or its 0-based
index (a JSON int is read like its digits); a gold that fits two of these with different
choices (text '2' among choices 1-4, where index 2 is the third) is refused as ambiguous.
Without choices the format is inferred from the answers: all letters A-J -> letter, all
numbers -> number, any digit or LaTeX -> math, else free text. Empty cells in separate
choice columns are dropped.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from orchestrator.answers import AnswerFormat
from orchestrator.benchmarks.base import (
    BenchItem,
    at,
    letter,
    read_csv,
    read_jsonl,
    render_options,
    strip_label,
)
from orchestrator.benchmarks.grading import to_number
from orchestrator.errors import InputError

FIELDS = ("question", "answer", "choices", "id", "category")
"""The BenchItem fields a file's own field names can be mapped to."""

_OPTIONAL = ("choices", "id", "category")
_SUFFIXES = (".jsonl", ".csv")


class GenericMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = "question"
    answer: str = "answer"
    choices: str | None = None
    id: str | None = None
    category: str | None = None
    fmt: Literal["letter", "number", "math", "free"] | None = None


def parse_mapping(mapping: Mapping[str, str] | GenericMapping | None) -> GenericMapping:
    if isinstance(mapping, GenericMapping):
        return mapping
    try:
        spec = GenericMapping.model_validate(dict(mapping or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        known = ", ".join(GenericMapping.model_fields)
        key = ".".join(str(p) for p in first["loc"])
        raise InputError(f"mapping: {first['msg']} for {key!r} (known keys: {known})") from None
    if spec.choices and spec.fmt not in (None, "letter"):
        raise InputError(f"mapping: with choices the answer format is 'letter', not {spec.fmt!r}")
    return spec


def fields_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """`--field TARGET=SOURCE` options as a mapping: TARGET is one of FIELDS, SOURCE the
    file's own field name (for choices, a list field or comma-separated columns)."""
    out: dict[str, str] = {}
    for pair in pairs:
        target, sep, source = (part.strip() for part in pair.partition("="))
        if not sep or not target or not source:
            raise InputError(f"--field {pair!r}: expected TARGET=SOURCE, e.g. question=ctx")
        if target not in FIELDS:
            raise InputError(
                f"--field {pair!r}: unknown field {target!r} (known: {', '.join(FIELDS)})"
            )
        if target in out:
            raise InputError(f"--field {target} is given twice")
        out[target] = source
    return out


def is_generic_file(split: str) -> bool:
    return Path(split).suffix.lower() in _SUFFIXES


def _get(row: Mapping[str, Any], key: str, where: str) -> Any:
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError(f"{where}: missing field {key!r}")
    return value


def _choices(row: Mapping[str, Any], spec: str, where: str) -> list[str]:
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if len(names) > 1:
        for name in names:
            if name not in row:
                raise InputError(f"{where}: missing field {name!r}")
        choices = [str(row[n]).strip() for n in names if str(row[n] or "").strip()]
    else:
        value = _get(row, names[0], where)
        if isinstance(value, str) and value.lstrip().startswith("["):
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)  # a CSV cell holding a JSON list
        if not isinstance(value, list):
            raise InputError(f"{where}: field {names[0]!r} is not a list of at least 2 choices")
        choices = [str(c).strip() for c in value]
    if not 2 <= len(choices) <= 10:
        raise InputError(f"{where}: {len(choices)} choices in {spec!r}; 2 to 10 (A-J) are graded")
    return choices


def to_letter(answer: Any, choices: list[str]) -> str:
    """The gold's letter. It may be a choice's text, its letter ('B', '(b)') or its 0-based
    index (an int or a string of digits); readings that name different choices are refused."""
    if isinstance(answer, bool) or not isinstance(answer, (int, str)):
        raise ValueError(f"answer {answer!r} is not a choice's text, letter or 0-based index")
    text = str(answer).strip()
    texts = [strip_label(c, i).strip() for i, c in enumerate(choices)]
    readings: dict[int, str] = {i: "the choice's text" for i, t in enumerate(texts) if t == text}
    found = re.fullmatch(r"\(?([A-Ja-j])\)?\.?", text)
    if found:
        readings.setdefault(ord(found.group(1).upper()) - ord("A"), "a letter")
    if text.isdigit():
        readings.setdefault(int(text), "a 0-based index")
    valid = {i: how for i, how in readings.items() if i < len(choices)}
    if not valid:
        if readings:
            raise ValueError(f"answer {answer!r} is outside the {len(choices)} choices")
        raise ValueError(f"answer {answer!r} is not a choice's text, letter or 0-based index")
    if len(valid) > 1:
        options = ", ".join(f"{how} -> {letter(i)}" for i, how in sorted(valid.items()))
        raise ValueError(f"answer {answer!r} is ambiguous ({options}); write the letter")
    return letter(next(iter(valid)))


def infer_format(answers: list[str]) -> AnswerFormat:
    if answers and all(re.fullmatch(r"\(?[A-J]\)?", a) for a in answers):
        return "letter"
    if answers and all(to_number(a) is not None for a in answers):
        return "number"
    if any(re.search(r"[\d\\^{}_/=]", a) for a in answers):
        return "math"
    return "free"


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    if not is_generic_file(str(path)):
        raise InputError(f"{path}: a generic benchmark must be a .jsonl or .csv file")
    if path.suffix.lower() == ".jsonl":
        return read_jsonl(path)
    return [(line, dict(row)) for line, row in read_csv(path)]


def _with_defaults(spec: GenericMapping, rows: list[tuple[int, dict[str, Any]]]) -> GenericMapping:
    """Unmapped optional fields: the field of the same name, when any row has it."""
    present = {key for _, row in rows for key in row}
    found = {f: f for f in _OPTIONAL if getattr(spec, f) is None and f in present}
    return spec.model_copy(update=found)


def _draft(
    row: dict[str, Any], spec: GenericMapping, where: str, default_id: str
) -> dict[str, Any]:
    question = str(_get(row, spec.question, where)).strip()
    answer = _get(row, spec.answer, where)
    source_id = str(_get(row, spec.id, where)).strip() if spec.id else None
    if spec.category and spec.category not in row:
        raise InputError(f"{where}: missing field {spec.category!r}")
    draft = {
        "id": source_id or default_id,
        "question_id": source_id,
        "category": str(row[spec.category] or "").strip() if spec.category else "",
    }
    if not spec.choices:
        return draft | {"question": question, "answer": str(answer).strip()}
    choices = _choices(row, spec.choices, where)
    try:
        gold = to_letter(answer, choices)
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None
    return draft | {"question": render_options(question, choices), "answer": gold}


def load_generic(
    path: Path, mapping: Mapping[str, str] | GenericMapping | None = None
) -> list[BenchItem]:
    spec = parse_mapping(mapping)
    rows = _rows(path)
    spec = _with_defaults(spec, rows)
    drafts = [
        (f"{path}:{line}", _draft(row, spec, f"{path}:{line}", f"{path.stem}-{line}"))
        for line, row in rows
    ]
    fmt = spec.fmt or ("letter" if spec.choices else infer_format([d["answer"] for _, d in drafts]))
    items: list[BenchItem] = []
    seen: set[str] = set()
    for where, draft in drafts:
        if draft["id"] in seen:
            raise InputError(f"{where}: duplicate id {draft['id']!r}")
        seen.add(draft["id"])
        if fmt == "number" and to_number(draft["answer"]) is None:
            raise InputError(f"{where}: answer {draft['answer']!r} is not a number")
        with at(where):
            items.append(BenchItem(**(draft | {"fmt": fmt})))
    return items
