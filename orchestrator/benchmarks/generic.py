"""A user's own benchmark: a JSONL or CSV file plus a mapping from BenchItem fields to the
file's field names.

    mapping = {"question": "prompt", "answer": "label",          # required (these defaults)
               "choices": "options",                             # a list field, or
               # "choices": "opt_a,opt_b,opt_c,opt_d",           # separate columns
               "id": "uid", "category": "subject",               # optional
               "fmt": "letter"}                                  # optional, else inferred

With choices the options are rendered '(A) ...' into the question, the format is 'letter',
and the answer may be a choice's text, its letter, or its 0-based index. Without choices the
format is inferred from the answers: all letters A-J -> letter, all numbers -> number, any
digit or LaTeX -> math, else free text. Empty cells in separate choice columns are dropped.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
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
        return GenericMapping.model_validate(dict(mapping or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        known = ", ".join(GenericMapping.model_fields)
        key = ".".join(str(p) for p in first["loc"])
        raise InputError(f"mapping: {first['msg']} for {key!r} (known keys: {known})") from None


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
        return [str(row[n]).strip() for n in names if str(row[n] or "").strip()]
    value = _get(row, names[0], where)
    if isinstance(value, str) and value.lstrip().startswith("["):
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)  # a CSV cell holding a JSON list
    if not isinstance(value, list) or len(value) < 2:
        raise InputError(f"{where}: field {names[0]!r} is not a list of at least 2 choices")
    return [str(c).strip() for c in value]


def to_letter(answer: Any, choices: list[str]) -> str:
    """A choice's text, then its letter, then its 0-based index (a JSON int is an index)."""
    if isinstance(answer, int) and not isinstance(answer, bool):
        index = answer
    else:
        text = str(answer).strip()
        texts = [strip_label(c, i).strip() for i, c in enumerate(choices)]
        found = re.fullmatch(r"\(?([A-Ja-j])\)?\.?", text)
        if text in texts:
            index = texts.index(text)
        elif found:
            index = ord(found.group(1).upper()) - ord("A")
        elif text.isdigit():
            index = int(text)
        else:
            raise ValueError(f"answer {text!r} is not a choice's text, letter or index")
    if not 0 <= index < len(choices):
        raise ValueError(f"answer {answer!r} is outside the {len(choices)} choices")
    return letter(index)


def infer_format(answers: list[str]) -> AnswerFormat:
    if answers and all(re.fullmatch(r"\(?[A-J]\)?", a) for a in answers):
        return "letter"
    if answers and all(to_number(a) is not None for a in answers):
        return "number"
    if any(re.search(r"[\d\\^{}_/=]", a) for a in answers):
        return "math"
    return "free"


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return read_jsonl(path)
    if suffix == ".csv":
        return [(line, dict(row)) for line, row in read_csv(path)]
    raise InputError(f"{path}: a generic benchmark must be a .jsonl or .csv file")


def load_generic(
    path: Path, mapping: Mapping[str, str] | GenericMapping | None = None
) -> list[BenchItem]:
    spec = parse_mapping(mapping)
    drafts: list[dict[str, Any]] = []
    for line, row in _rows(path):
        where = f"{path}:{line}"
        question = str(_get(row, spec.question, where)).strip()
        answer = _get(row, spec.answer, where)
        source_id = str(_get(row, spec.id, where)).strip() if spec.id else None
        draft: dict[str, Any] = {
            "id": source_id or f"{path.stem}-{line}",
            "question_id": source_id,
            "category": str(row.get(spec.category) or "") if spec.category else "",
        }
        if spec.choices:
            choices = _choices(row, spec.choices, where)
            with at(where):
                draft |= {"question": render_options(question, choices)}
                draft |= {"answer": to_letter(answer, choices), "fmt": "letter"}
        else:
            draft |= {"question": question, "answer": str(answer).strip()}
        drafts.append(draft | {"where": where})
    fmt = spec.fmt or ("letter" if spec.choices else infer_format([d["answer"] for d in drafts]))
    items: list[BenchItem] = []
    seen: set[str] = set()
    for draft in drafts:
        where = draft.pop("where")
        if draft["id"] in seen:
            raise InputError(f"{where}: duplicate id {draft['id']!r}")
        seen.add(draft["id"])
        if fmt == "number" and to_number(draft["answer"]) is None:
            raise InputError(f"{where}: answer {draft['answer']!r} is not a number")
        with at(where):
            items.append(BenchItem(**(draft | {"fmt": fmt})))
    return items
