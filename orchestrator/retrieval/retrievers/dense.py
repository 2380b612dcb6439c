"""`dense`: cosine similarity between the query's MiniLM embedding and the stored ones.

The stored vectors are L2-normalised, so cosine is a dot product: one (n, 384) float32 matrix
in memory, kept in step with the store (rows of removed chunks dropped, the new chunks'
embeddings appended, fetched from the store only for those). A search reads the matched
chunks' text from the store, only the k it returns.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from orchestrator.retrieval.retrievers.base import RetrieverOptions, SyncedRetriever
from orchestrator.retrieval.types import ChunkSource, SearchHit
from skills.embeddings import Embedder

DIMENSIONS = 384  # all-MiniLM-L6-v2


class DenseRetriever(SyncedRetriever):
    name = "dense"

    def __init__(
        self, source: ChunkSource, embedder: Embedder, options: RetrieverOptions | None = None
    ) -> None:
        super().__init__(source, embedder, options)
        self._ids: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._matrix: npt.NDArray[np.float32] = np.zeros((0, DIMENSIONS), dtype=np.float32)

    def _update(self, added: list[int], removed: set[int]) -> None:
        if removed:
            keep = ~np.isin(self._ids, np.fromiter(removed, dtype=np.int64))
            self._ids, self._matrix = self._ids[keep], self._matrix[keep]
        if added:
            vectors = np.asarray(self.source.embeddings(added), dtype=np.float32)
            if vectors.shape != (len(added), self._matrix.shape[1]):
                raise ValueError(
                    f"the store returned embeddings of shape {vectors.shape} for "
                    f"{len(added)} chunks (expected ({len(added)}, {self._matrix.shape[1]}))"
                )
            self._ids = np.concatenate([self._ids, np.asarray(added, dtype=np.int64)])
            self._matrix = np.concatenate([self._matrix, vectors])

    def _search(self, query: str, k: int) -> list[SearchHit]:
        if not len(self._ids) or not query.strip():
            return []
        query_vector = self.embedder.encode([query])[0].astype(np.float32)
        scores = self._matrix @ query_vector
        count = min(k, len(scores))
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.lexsort((self._ids[top], -scores[top]))]  # best first, ties by id
        ids = [int(i) for i in self._ids[top]]
        score_of = {int(self._ids[i]): float(scores[i]) for i in top}
        # a chunk removed since the catch-up is left out by the source
        chunks = self.source.chunks(ids)
        return [
            SearchHit(chunk=chunk, score=score_of[chunk.id], rank=rank, retriever=self.name)
            for rank, chunk in enumerate(chunks, start=1)
        ]
