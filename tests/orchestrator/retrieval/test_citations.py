"""Reading the [n] citations of an answer."""

from __future__ import annotations

from orchestrator.retrieval.citations import cited
from orchestrator.trace import Passage


def _passages(n: int) -> list[Passage]:
    return [
        Passage(number=i, chunk_id=10 + i, source=f"s{i}", text=f"t{i}", score=1.0 / i)
        for i in range(1, n + 1)
    ]


def test_cited_passages_in_passage_order() -> None:
    passages = _passages(4)
    answer = "Paris [3]. It is large [1, 3] and old [9] (see [x] too)."
    assert [p.number for p in cited(answer, passages)] == [1, 3]
    assert cited("No sources used.", passages) == []
    assert [p.chunk_id for p in cited("[2][4]", passages)] == [12, 14]
