"""What a query's search looks like before anything is retrieved: the BM25 and dense rankings
side by side, summarised as a few numbers (`SearchSignals`) the `expert_rag` gate weighs.
A confident match (a high top score, well ahead of the next) and two rankings that agree
suggest the store holds the answer; weak, scattered hits suggest it does not."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cached_property

from pydantic import BaseModel

from orchestrator.retrieval.retrievers.base import Retriever
from orchestrator.retrieval.types import SearchHit

AGREEMENT_DEPTH = 5  # how many of each ranking's top hits are compared


class SearchSignals(BaseModel):
    """All zero for an empty store."""

    bm25_top: float = 0.0  # log(1 + the best BM25 score): BM25 scores are unbounded
    bm25_margin: float = 0.0  # (best - second) / best
    dense_top: float = 0.0  # the best cosine
    dense_margin: float = 0.0  # best - second cosine
    agreement: float = 0.0  # share of the top AGREEMENT_DEPTH ids both rankings hold


def _top_two(hits: list[SearchHit]) -> tuple[float, float]:
    first = hits[0].score if hits else 0.0
    return first, hits[1].score if len(hits) > 1 else 0.0


def summarise(bm25: list[SearchHit], dense: list[SearchHit]) -> SearchSignals:
    b1, b2 = _top_two(bm25)
    d1, d2 = _top_two(dense)
    shared = {h.chunk.id for h in bm25} & {h.chunk.id for h in dense}
    return SearchSignals(
        bm25_top=math.log1p(max(b1, 0.0)),
        bm25_margin=(b1 - b2) / b1 if b1 > 0 else 0.0,
        dense_top=d1,
        dense_margin=d1 - d2,
        agreement=len(shared) / AGREEMENT_DEPTH,
    )


class SearchProbe:
    """Searches the store with BM25 and dense retrievers (built on first use by `rankers`:
    a deployment hands the parts of its hybrid retriever, so no index is built twice)."""

    def __init__(self, rankers: Callable[[], tuple[Retriever, Retriever]]) -> None:
        self._rankers = rankers

    @cached_property
    def _retrievers(self) -> tuple[Retriever, Retriever]:
        return self._rankers()

    def signals(self, questions: list[str]) -> list[SearchSignals]:
        bm25, dense = self._retrievers
        return [
            summarise(bm25.search(q, AGREEMENT_DEPTH), dense.search(q, AGREEMENT_DEPTH))
            for q in questions
        ]
