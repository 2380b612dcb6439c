"""Reading recordings from disk: a `model_outputs_<MODEL>_<N>shots.zip` (one JSON list, one
record per question) into columns, and the optional compact column file that makes later
loads faster (parsing a 14-23 MB JSON takes a noticeable fraction of a second).
"""

from __future__ import annotations

import json
import logging
import os
import string
import threading
import zipfile
from pathlib import Path
from typing import Any

from workers.backends.replay_index import COLUMNS, Columns, normalise_question, options_key
from workers.types import BackendError

log = logging.getLogger(__name__)

_CACHE_VERSION = 1


# -- reading a zip ---------------------------------------------------------------------------


def read_zip(path: Path) -> Columns:
    """The columns replay needs from one recordings zip. Raises BackendError."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.endswith(".json")]
            if len(names) != 1:
                raise BackendError(f"replay: {path} should hold one .json file, has {names}")
            records = json.loads(zf.read(names[0]))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:  # ValueError: JSON, UTF-8
        raise BackendError(f"replay: cannot read {path}: {exc}") from exc
    if not isinstance(records, list):
        raise BackendError(f"replay: {path} should hold a JSON list of records")
    # DeepSeek-Coder-V2's file has 43 stray strings (category names, "total") between the
    # records; they are not answers, so keep only the records.
    records = [r for r in records if isinstance(r, dict)]
    try:
        columns = _extract(records)
    except (KeyError, TypeError, AttributeError) as exc:
        raise BackendError(f"replay: {path} has a malformed record ({exc!r})") from exc
    for name in ("question", "generated_text", "answer", "category"):
        if not all(isinstance(v, str) for v in columns[name]):
            raise BackendError(f"replay: {path} has a record whose {name} is not a string")
    return columns


def _extract(records: list[dict[str, Any]]) -> Columns:
    # One comprehension per column: several times faster than a loop appending tuples.
    questions = [r["question"].strip() for r in records]
    keys = [normalise_question(q) for q in questions]
    counts: dict[str, int] = {}
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    return {
        "question_id": [str(r["question_id"]).strip() for r in records],
        "question": questions,
        # gemini, jamba and DeepSeek name the field model_outputs
        "generated_text": [
            r["generated_text"] if "generated_text" in r else r["model_outputs"] for r in records
        ],
        "pred": [None if r.get("pred") is None else str(r["pred"]) for r in records],
        "answer": [r["answer"] for r in records],
        "category": [r["category"] for r in records],
        "question_key": [None if k == q else k for k, q in zip(keys, questions, strict=True)],
        # Options are needed only to tell apart records that share a question text.
        "opts": [
            options_key(_render_options(r["options"])) if counts[k] > 1 else None
            for r, k in zip(records, keys, strict=True)
        ],
    }


def _render_options(options: list[Any]) -> str:
    return " ".join(
        f"({letter}) {opt}" for letter, opt in zip(string.ascii_uppercase, options, strict=False)
    )


# -- the optional compact cache file ---------------------------------------------------------
# Column-oriented JSON: 8 flat lists parse far faster than 12k dicts with options and cot.


def cache_file_name(path: Path) -> str:
    """The compact file of this version of a recordings zip (its size and mtime in the name)."""
    stat = path.stat()
    return f"{path.stem}.{stat.st_size}-{stat.st_mtime_ns}.v{_CACHE_VERSION}.json"


def read_cache(cache: Path) -> Columns | None:
    try:
        data = json.loads(cache.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("replay: ignoring unreadable cache %s: %s", cache, exc)
        return None
    columns = data.get("columns") if isinstance(data, dict) else None
    if (
        not isinstance(columns, dict)
        or data.get("version") != _CACHE_VERSION
        or set(columns) != set(COLUMNS)
        or len({len(v) if isinstance(v, list) else -1 for v in columns.values()}) != 1
    ):
        log.warning("replay: ignoring cache %s in an unexpected format", cache)
        return None
    return columns


def write_cache(cache: Path, columns: Columns) -> None:
    # A cache that cannot be written only costs speed, never correctness.
    tmp = cache.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"version": _CACHE_VERSION, "columns": columns}))
        os.replace(tmp, cache)  # atomic: a concurrent reader sees no file or the whole file
    except OSError as exc:
        log.warning("replay: cannot write cache %s: %s", cache, exc)
        tmp.unlink(missing_ok=True)
