"""The recorded expert outputs in one folder (MMLU-Pro `eval_results` zips), one
`ModelRecording` per model.

Parsing a recording is slow (`replay_files`), so parsed recordings are cached per process
(keyed by path, size and mtime) and, optionally, as a compact column file under a cache
directory. Only the fields replay needs are kept, as columns (`replay_index`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

from workers.backends.replay_files import cache_file_name, read_cache, read_zip, write_cache
from workers.backends.replay_index import Columns, ModelRecording
from workers.types import BackendError

_FILE_RE = re.compile(r"^model_outputs_(?P<model>.+)_\d+shots\.zip$")


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

    def _columns(self, path: Path) -> Columns:
        if self.cache_dir is None:
            return read_zip(path)
        cache = self.cache_dir / cache_file_name(path)
        columns = read_cache(cache)
        if columns is None:
            columns = read_zip(path)
            write_cache(cache, columns)
        return columns


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
