"""The retriever interface, its options, and the catch-up logic every in-process index shares.

Every retriever is built the same way, `(source, embedder, options)`, so `RETRIEVERS.create`
can make any of them from settings. An index reads the store only through `ChunkSource`: it
remembers the revision it indexed, and before a search, when the store's revision differs,
it asks for the stored ids and fetches only the chunks it has not seen (removed ids are
dropped). A search with no change in between reads nothing from the store but its revision.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.retrieval.types import ChunkSource, SearchHit
from skills.embeddings import Embedder


class RetrieverOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    bm25_weight: float = Field(default=1.0, ge=0.0, description="hybrid: BM25's weight")
    dense_weight: float = Field(default=1.0, ge=0.0, description="hybrid: dense's weight")
    rrf_k: int = Field(default=60, ge=1, description="reciprocal rank fusion's constant")
    fusion_depth: int = Field(
        default=50, ge=1, description="hybrid: how many hits of each ranking the fusion reads"
    )
    langchain_factory: str | None = Field(
        default=None,
        description="langchain: 'module:attribute', a LangChain BaseRetriever or a callable "
        "with no arguments that returns one",
    )


class Retriever(ABC):
    name: ClassVar[str] = ""

    def __init__(
        self, source: ChunkSource, embedder: Embedder, options: RetrieverOptions | None = None
    ) -> None:
        self.source = source
        self.embedder = embedder
        self.options = options or RetrieverOptions()

    @abstractmethod
    def search(self, query: str, k: int) -> list[SearchHit]:
        """The k best chunks for `query`, best first, ranks 1..n (fewer when fewer match)."""


class SyncedRetriever(Retriever):
    """A retriever over an in-process index that follows the store's revision."""

    def __init__(
        self, source: ChunkSource, embedder: Embedder, options: RetrieverOptions | None = None
    ) -> None:
        super().__init__(source, embedder, options)
        self._indexed_revision: tuple[int, int] | None = None
        self._indexed_ids: set[int] = set()
        # The API searches from several threads: one catch-up at a time, and no search reads
        # an index half updated.
        self._lock = threading.Lock()
        self.catch_ups = 0  # how many times the index changed (a test and bench counter)

    def search(self, query: str, k: int) -> list[SearchHit]:
        if k < 1:
            return []
        with self._lock:
            self._catch_up()
            return self._search(query, k)

    def _catch_up(self) -> None:
        revision = self.source.revision()
        if revision == self._indexed_revision:
            return
        stored = self.source.chunk_ids()
        added = sorted(stored - self._indexed_ids)
        removed = self._indexed_ids - stored
        if added or removed:
            self._update(added, removed)
            self.catch_ups += 1
        self._indexed_ids = stored
        self._indexed_revision = revision

    @abstractmethod
    def _update(self, added: list[int], removed: set[int]) -> None:
        """Add the chunks with ids `added` (fetched from the source) and drop `removed`."""

    @abstractmethod
    def _search(self, query: str, k: int) -> list[SearchHit]:
        """Search the index as it is (the lock is held)."""
