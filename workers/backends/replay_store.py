"""Read recorded expert outputs (MMLU-Pro `eval_results` zips) and look them up.

Each `model_outputs_<MODEL>_<N>shots.zip` holds one JSON list with one record per question.
Parsing a 14-23 MB JSON takes a noticeable fraction of a second, so parsed recordings are
cached per process (keyed by path, size and mtime) and, optionally, as a compact column file
under a cache directory. Only the fields replay needs are kept, as columns: a `Recording` is
built only when a lookup asks for it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import string
import threading
import zipfile
from collections.abc import Callable, Iterator
from hashlib import blake2b
from pathlib import Path
from typing import Any, NamedTuple

from workers.types import BackendError

log = logging.getLogger(__name__)

_FILE_RE = re.compile(r"^model_outputs_(?P<model>.+)_\d+shots\.zip$")
# The Symbolic-MoE splits append " The options are: (A) ... (J) ..." to the bare question.
_OPTIONS_MARK = "The options are:"
_CACHE_VERSION = 1
# question_key is None where it equals question; opts is None where the question is unique.
_COLUMNS = (
    "question_id",
    "question",
    "generated_text",
    "pred",
    "answer",
    "category",
    "question_key",
    "opts",
)
_Columns = dict[str, list[Any]]


class Recording(NamedTuple):
    question_id: str
    question: str
    generated_text: str
    pred: str | None
    answer: str
    category: str


def normalise_question(text: str) -> str:
    """The bare question: drop an appended options list, collapse whitespace."""
    # str.find, not a regex: this runs once per recorded question on every load.
    cut = text.find(_OPTIONS_MARK)
    return " ".join((text[:cut] if cut >= 0 else text).split())


def _options_key(rendered: str) -> str:
    # Whitespace and a final full stop differ between the recordings and the paper splits.
    norm = " ".join(rendered.split()).rstrip(".").rstrip()
    return blake2b(norm.encode(), digest_size=8).hexdigest()


def _suffix_key(text: str) -> str | None:
    cut = text.find(_OPTIONS_MARK)
    return _options_key(text[cut + len(_OPTIONS_MARK) :]) if cut >= 0 else None


class ModelRecording:
    """All recordings of one model, indexed by question id and by normalised question text."""

    def __init__(self, model: str, path: Path, columns: _Columns) -> None:
        self.model = model
        self.path = path
        self._ids: list[str] = columns["question_id"]
        self._questions: list[str] = columns["question"]
        self._texts: list[str] = columns["generated_text"]
        self._preds: list[str | None] = columns["pred"]
        self._answers: list[str] = columns["answer"]
        self._categories: list[str] = columns["category"]
        n = len(self._ids)
        self._by_id = dict(zip(self._ids, range(n), strict=True))
        keys = [
            q if k is None else k
            for q, k in zip(self._questions, columns["question_key"], strict=True)
        ]
        # Built from the end so the first record in file order wins for a repeated text.
        self._by_text = dict(zip(reversed(keys), range(n - 1, -1, -1), strict=True))
        # ~358 MMLU-Pro question texts occur several times, mostly with other options; keep
        # their options keys so an options suffix in the query can pick the right record.
        self._repeated: dict[str, list[tuple[str, int]]] = {}
        for i, opts in enumerate(columns["opts"]):
            if opts is not None:
                self._repeated.setdefault(keys[i], []).append((opts, i))

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[Recording]:
        return (self._record(i) for i in range(len(self._ids)))

    def _record(self, i: int) -> Recording:
        return Recording(
            self._ids[i],
            self._questions[i],
            self._texts[i],
            self._preds[i],
            self._answers[i],
            self._categories[i],
        )

    def by_id(self, question_id: str | int) -> Recording | None:
        i = self._by_id.get(str(question_id).strip())
        return None if i is None else self._record(i)

    def by_question(self, text: str) -> Recording | None:
        """Match on the bare question; when it is not unique, the options suffix (if any)
        picks the record with the same options, else the first in file order wins."""
        key = normalise_question(text)
        i = self._by_text.get(key)
        if i is None:
            return None
        if key in self._repeated and (wanted := _suffix_key(text)) is not None:
            i = next((j for opts, j in self._repeated[key] if opts == wanted), i)
        return self._record(i)


class ReplayStore:
    """The recordings in one folder. Construction does no I/O; `recording()` loads lazily."""

    def __init__(self, replay_dir: Path, cache_dir: Path | None = None) -> None:
        self.replay_dir = Path(replay_dir)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None

    def _files(self) -> dict[str, Path]:
        if not self.replay_dir.is_dir():
            raise BackendError(f"replay: recordings folder {self.replay_dir} does not exist")
        found = {}
        for path in self.replay_dir.iterdir():
            if m := _FILE_RE.match(path.name):
                found[m["model"]] = path
        if not found:
            raise BackendError(
                f"replay: no model_outputs_<MODEL>_<N>shots.zip files in {self.replay_dir}"
            )
        return dict(sorted(found.items()))

    def models(self) -> list[str]:
        return list(self._files())

    def recording(self, model: str) -> ModelRecording:
        files = self._files()
        path = files.get(model)
        if path is None:
            raise BackendError(
                f"replay: no recording for model {model!r} in {self.replay_dir} "
                f"(known: {', '.join(files)})"
            )
        return _cached(path, lambda: ModelRecording(model, path, self._columns(path)))

    def _columns(self, path: Path) -> _Columns:
        if self.cache_dir is None:
            return _read_zip(path)
        stat = path.stat()
        name = f"{path.stem}.{stat.st_size}-{stat.st_mtime_ns}.v{_CACHE_VERSION}.json"
        cache = self.cache_dir / name
        columns = _read_cache(cache)
        if columns is None:
            columns = _read_zip(path)
            _write_cache(cache, columns)
        return columns


# -- reading a zip ---------------------------------------------------------------------------


def _read_zip(path: Path) -> _Columns:
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


def _extract(records: list[dict[str, Any]]) -> _Columns:
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
            _options_key(_render_options(r["options"])) if counts[k] > 1 else None
            for r, k in zip(records, keys, strict=True)
        ],
    }


def _render_options(options: list[Any]) -> str:
    return " ".join(
        f"({letter}) {opt}" for letter, opt in zip(string.ascii_uppercase, options, strict=False)
    )


# -- the optional compact cache file ---------------------------------------------------------
# Column-oriented JSON: 8 flat lists parse far faster than 12k dicts with options and cot.


def _read_cache(cache: Path) -> _Columns | None:
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
        or set(columns) != set(_COLUMNS)
        or len({len(v) if isinstance(v, list) else -1 for v in columns.values()}) != 1
    ):
        log.warning("replay: ignoring cache %s in an unexpected format", cache)
        return None
    return columns


def _write_cache(cache: Path, columns: _Columns) -> None:
    # A cache that cannot be written only costs speed, never correctness.
    tmp = cache.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"version": _CACHE_VERSION, "columns": columns}))
        os.replace(tmp, cache)  # atomic: a concurrent reader sees no file or the whole file
    except OSError as exc:
        log.warning("replay: cannot write cache %s: %s", cache, exc)
        tmp.unlink(missing_ok=True)


# -- the in-process cache --------------------------------------------------------------------

_CacheKey = tuple[str, int, int]
_cache: dict[_CacheKey, ModelRecording] = {}
_cache_lock = threading.Lock()
_load_locks: dict[_CacheKey, threading.Lock] = {}


def _cached(path: Path, load: Callable[[], ModelRecording]) -> ModelRecording:
    """One parse per file version per process; threads loading other models do not wait."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise BackendError(f"replay: cannot read {path}: {exc}") from exc
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _cache_lock:
        if (hit := _cache.get(key)) is not None:
            return hit
        lock = _load_locks.setdefault(key, threading.Lock())
    with lock:
        with _cache_lock:
            if (hit := _cache.get(key)) is not None:
                return hit
        value = load()
        with _cache_lock:
            # A changed file replaces its old version rather than piling up beside it.
            for old in [k for k in _cache if k[0] == key[0]]:
                del _cache[old]
            _cache[key] = value
            _load_locks.pop(key, None)
        return value


def clear_cache() -> None:
    """Forget every parsed recording (tests, or to free memory)."""
    with _cache_lock:
        _cache.clear()
