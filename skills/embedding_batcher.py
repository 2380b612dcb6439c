"""Continuous batching of concurrent `encode` calls, with an in-memory LRU cache in front.

The API server tags each request's question in its own thread, one text per `encode`. A
MiniLM forward pass costs much less per text in a batch, and the persistent cache behind it
(CachedEmbedder) serialises every lookup under one lock anyway. So calls that arrive while an
encode is in flight wait, and run together as the next single inner `encode`, which starts as
soon as the in-flight one ends; an idle call runs at once. No thread of its own: one caller of
each batch runs it. A repeated question is answered from memory, skipping model and SQLite."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque

import numpy as np

from skills.embeddings import Array, Embedder


class _Batch:
    """Distinct texts encoded by one inner call, and its outcome for every caller in it."""

    def __init__(self) -> None:
        self.texts: dict[str, None] = {}  # an ordered set
        self.start = threading.Event()  # its turn: no batch in flight before it
        self.done = threading.Event()
        self.claimed = False  # one of its callers runs it
        self.vectors: dict[str, Array] = {}
        self.error: BaseException | None = None


class BatchingEmbedder:
    """Wraps an Embedder: merges concurrent calls into batches of at most `max_batch` texts
    (one larger call runs alone) and keeps the last `cache_size` texts' vectors in memory."""

    def __init__(self, embedder: Embedder, max_batch: int = 256, cache_size: int = 4096) -> None:
        self._embedder = embedder
        self._max_batch = max_batch
        self._cache_size = cache_size
        self._cache: OrderedDict[str, Array] = OrderedDict()
        self._lock = threading.Lock()
        self._queue: deque[_Batch] = deque()  # waiting batches, the next one first
        self._busy = False  # a batch is in flight

    def encode(self, texts: list[str]) -> Array:
        if not texts:
            return self._embedder.encode(texts)
        with self._lock:
            found: dict[str, Array] = {}
            for text in texts:
                vec = self._cache.get(text)
                if vec is not None:
                    self._cache.move_to_end(text)
                    found[text] = vec
            missing = [t for t in dict.fromkeys(texts) if t not in found]
            if not missing:
                return np.stack([found[t] for t in texts])
            batch = self._join(missing)
            if not self._busy:
                self._start_next()
        batch.start.wait()
        with self._lock:
            runner, batch.claimed = not batch.claimed, True
        if runner:
            self._run(batch)
        else:
            batch.done.wait()
        if batch.error is not None:
            raise batch.error
        return np.stack([found[t] if t in found else batch.vectors[t] for t in texts])

    def cache_info(self) -> tuple[int, int]:
        """(texts in the memory cache, its capacity)."""
        with self._lock:
            return len(self._cache), self._cache_size

    def _join(self, missing: list[str]) -> _Batch:
        """The last waiting batch if the texts fit in it, else a new one (under the lock)."""
        last = self._queue[-1] if self._queue else None
        if last is None or len(last.texts.keys() | missing) > self._max_batch:
            last = _Batch()
            self._queue.append(last)
        last.texts.update(dict.fromkeys(missing))
        return last

    def _start_next(self) -> None:
        """Lets the next waiting batch run, or marks the embedder idle (under the lock)."""
        self._busy = bool(self._queue)
        if self._queue:
            self._queue.popleft().start.set()

    def _run(self, batch: _Batch) -> None:
        texts = list(batch.texts)
        try:
            vectors = self._embedder.encode(texts)
            batch.vectors = {t: np.array(v) for t, v in zip(texts, vectors, strict=True)}
        except BaseException as exc:  # every caller of the batch gets it, the runner too
            batch.error = exc
        finally:
            with self._lock:
                for text, vec in batch.vectors.items():
                    self._cache[text] = vec
                    self._cache.move_to_end(text)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
                self._start_next()
            batch.done.set()
