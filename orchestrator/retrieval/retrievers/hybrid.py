"""`hybrid`: reciprocal rank fusion (Cormack et al. 2009) of the bm25 and dense rankings.

A chunk's fused score is the sum over rankings of weight / (rrf_k + rank), rank from 1; a
ranking that does not contain the chunk adds nothing. Ranks, not scores, are fused, so BM25's
unbounded scores and cosines need no calibration against each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import TypeVar

from orchestrator.retrieval.retrievers.base import Retriever, RetrieverOptions
from orchestrator.retrieval.retrievers.bm25 import BM25Retriever
from orchestrator.retrieval.retrievers.dense import DenseRetriever
from orchestrator.retrieval.types import Chunk, ChunkSource, SearchHit
from skills.embeddings import Embedder

Weight = TypeVar("Weight", float, Fraction)


def rrf(
    rankings: Sequence[Sequence[int]], weights: Sequence[Weight], k: int = 60
) -> list[tuple[int, Weight]]:
    """(id, fused score) best first; equal scores in id order. Each ranking lists ids best
    first. Pure arithmetic: with Fraction weights the scores are exact Fractions."""
    if len(rankings) != len(weights):
        raise ValueError(f"{len(rankings)} rankings but {len(weights)} weights")
    scores: dict[int, Weight] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        if len(set(ranking)) != len(ranking):
            raise ValueError("a ranking names an id twice")
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


class HybridRetriever(Retriever):
    name = "hybrid"

    def __init__(
        self, source: ChunkSource, embedder: Embedder, options: RetrieverOptions | None = None
    ) -> None:
        super().__init__(source, embedder, options)
        self.bm25 = BM25Retriever(source, embedder, self.options)
        self.dense = DenseRetriever(source, embedder, self.options)

    def search(self, query: str, k: int) -> list[SearchHit]:
        if k < 1:
            return []
        depth = max(k, self.options.fusion_depth)
        parts = [(self.bm25, self.options.bm25_weight), (self.dense, self.options.dense_weight)]
        chunks: dict[int, Chunk] = {}
        rankings: list[list[int]] = []
        weights: list[float] = []
        for retriever, weight in parts:
            if weight == 0.0:  # a ranking that cannot count is not computed
                continue
            hits = retriever.search(query, depth)
            chunks.update((hit.chunk.id, hit.chunk) for hit in hits)
            rankings.append([hit.chunk.id for hit in hits])
            weights.append(weight)
        fused = rrf(rankings, weights, self.options.rrf_k)[:k]
        return [
            SearchHit(chunk=chunks[chunk_id], score=score, rank=rank, retriever=self.name)
            for rank, (chunk_id, score) in enumerate(fused, start=1)
        ]
