"""`bm25`: lexical search with bm25s (Lucene's BM25 over sparse matrices).

bm25s builds an index from a whole corpus and has no incremental add, so the retriever keeps
each chunk and its tokens in memory: a catch-up tokenises only the new chunks (fetched from
the store) and rebuilds the bm25s matrices from the tokens it already holds. Nothing is
rebuilt when the store has not changed.
"""

from __future__ import annotations

import logging

import bm25s
import numpy as np

from orchestrator.retrieval.retrievers.base import RetrieverOptions, SyncedRetriever
from orchestrator.retrieval.types import Chunk, ChunkSource, SearchHit
from skills.embeddings import Embedder

# bm25s sets its own logger to DEBUG when imported: an application's root handler (the CLI's,
# the server's) would print every index build and query.
logging.getLogger("bm25s").setLevel(logging.WARNING)


def tokenize(texts: list[str]) -> list[list[str]]:
    """bm25s's tokeniser: lower case, words of two or more characters, English stopwords out."""
    tokens: list[list[str]] = bm25s.tokenize(
        texts, stopwords="en", return_ids=False, show_progress=False
    )
    return tokens


class BM25Retriever(SyncedRetriever):
    name = "bm25"

    def __init__(
        self, source: ChunkSource, embedder: Embedder, options: RetrieverOptions | None = None
    ) -> None:
        super().__init__(source, embedder, options)
        self._chunks: dict[int, Chunk] = {}
        self._tokens: dict[int, list[str]] = {}
        self._order: list[int] = []  # chunk id of each bm25s document, in index order
        self._index: bm25s.BM25 | None = None

    def _update(self, added: list[int], removed: set[int]) -> None:
        for chunk_id in removed:
            self._chunks.pop(chunk_id, None)
            self._tokens.pop(chunk_id, None)
        new = self.source.chunks(added) if added else []
        for chunk, tokens in zip(new, tokenize([c.text for c in new]), strict=True):
            self._chunks[chunk.id] = chunk
            self._tokens[chunk.id] = tokens
        self._order = sorted(self._chunks)
        self._index = None
        if self._order:
            index = bm25s.BM25()
            index.index([self._tokens[i] for i in self._order], show_progress=False)
            self._index = index

    def _search(self, query: str, k: int) -> list[SearchHit]:
        (query_tokens,) = tokenize([query])
        if self._index is None or not query_tokens:
            return []
        scores = np.asarray(self._index.get_scores(query_tokens), dtype=np.float64)
        count = min(k, len(scores))
        candidates = np.argpartition(-scores, count - 1)[:count].tolist()
        # best first; equal scores in chunk-id order, so a ranking is reproducible
        top = sorted(candidates, key=lambda i: (-scores[i], self._order[i]))
        hits: list[SearchHit] = []
        for i in top:
            if scores[i] <= 0.0:  # no query term in the chunk: not a match
                break
            chunk, score = self._chunks[self._order[i]], float(scores[i])
            hit = SearchHit(chunk=chunk, score=score, rank=len(hits) + 1, retriever=self.name)
            hits.append(hit)
        return hits
