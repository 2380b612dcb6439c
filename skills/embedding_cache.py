"""A persistent cache of text embeddings, so a question is embedded once per machine.

Evaluation runs tag the same thousands of questions again and again (every method, seed and
rerun); without the cache, embedding dominates their time."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import numpy as np

from skills.embeddings import Array, Embedder


class CachedEmbedder:
    """Wraps an Embedder; vectors are stored in SQLite keyed by sha1(model key + text)."""

    def __init__(
        self, embedder: Embedder, cache_dir: Path, model_key: str = "all-MiniLM-L6-v2"
    ) -> None:
        self._embedder = embedder
        self._path = cache_dir / "embeddings.sqlite"
        self._model_key = model_key
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self._path, check_same_thread=False)
            self._conn.execute(
                "create table if not exists vectors (key text primary key, vec blob)"
            )
        return self._conn

    def _key(self, text: str) -> str:
        return hashlib.sha1(f"{self._model_key}\n{text}".encode()).hexdigest()

    def encode(self, texts: list[str]) -> Array:
        if not texts:
            return self._embedder.encode(texts)
        keys = [self._key(t) for t in texts]
        with self._lock:
            db = self._db()
            found: dict[str, bytes] = {}
            unique = list(dict.fromkeys(keys))
            for i in range(0, len(unique), 500):  # SQLite's bound-parameter limit
                part = unique[i : i + 500]
                marks = ",".join("?" * len(part))
                found.update(
                    db.execute(f"select key, vec from vectors where key in ({marks})", part)
                )
            missing = [i for i, k in enumerate(keys) if k not in found]
            if missing:
                todo = list(dict.fromkeys(missing, None))
                first_of = {keys[i]: i for i in reversed(todo)}
                new = self._embedder.encode([texts[i] for i in first_of.values()])
                rows = [
                    (k, np.asarray(v, dtype=np.float32).tobytes())
                    for k, v in zip(first_of, new, strict=True)
                ]
                db.executemany("insert or replace into vectors values (?, ?)", rows)
                db.commit()
                found.update(rows)
        return np.stack([np.frombuffer(found[k], dtype=np.float32) for k in keys])
