"""The bm25, dense and hybrid retrievers on real HotpotQA paragraphs with real MiniLM
embeddings, read through a counting in-memory ChunkSource; RRF's arithmetic; the registry."""

from __future__ import annotations

from fractions import Fraction

import pytest

from orchestrator.errors import ConfigError
from orchestrator.retrieval.retrievers import (
    RETRIEVERS,
    BM25Retriever,
    DenseRetriever,
    HybridRetriever,
    RetrieverOptions,
    rrf,
)
from orchestrator.retrieval.types import SearchHit
from tests.orchestrator.retrieval.hotpot import Corpus, MemorySource, full_source, hotpot_corpus

pytestmark = [pytest.mark.embeddings, pytest.mark.data]


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return hotpot_corpus()


@pytest.fixture
def source(corpus: Corpus) -> MemorySource:
    return full_source(corpus)


def titles(hits: list[SearchHit]) -> list[str]:
    return [hit.chunk.source for hit in hits]


def test_hybrid_ranks_a_gold_paragraph_in_the_top_five(
    corpus: Corpus, source: MemorySource
) -> None:
    hybrid = HybridRetriever(source, corpus.embedder, RetrieverOptions())
    found = 0
    for question in corpus.questions:
        hits = hybrid.search(question.question, 5)
        assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
        assert all(h.retriever == "hybrid" for h in hits)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        gold_found = question.gold_titles & set(titles(hits))
        assert gold_found, (question.question, titles(hits))
        found += len(gold_found)
    # recall@5 over both gold paragraphs of each question (20 of 24 when written)
    assert found / sum(len(q.gold_titles) for q in corpus.questions) >= 0.75


def test_bm25_finds_an_exact_rare_term(corpus: Corpus, source: MemorySource) -> None:
    bm25 = BM25Retriever(source, corpus.embedder, RetrieverOptions())
    # "WorkPlay" (a Birmingham theatre) occurs in one paragraph of the 120
    hits = bm25.search("WorkPlay", 5)
    assert titles(hits) == ["Act of Congress (music group)"]
    assert hits[0].retriever == "bm25" and hits[0].score > 0
    assert bm25.search("zzyzx qwertyuiop", 5) == []  # no term of the query is indexed
    assert bm25.search("the of and", 5) == []  # stopwords only


def test_dense_finds_a_paraphrase_bm25_misses(corpus: Corpus, source: MemorySource) -> None:
    query = "which woman physicist helped explain how uranium atoms split apart"
    dense = DenseRetriever(source, corpus.embedder, RetrieverOptions())
    bm25 = BM25Retriever(source, corpus.embedder, RetrieverOptions())
    hits = dense.search(query, 3)
    assert hits[0].chunk.source == "Lise Meitner"
    assert -1.0 <= hits[-1].score <= hits[0].score <= 1.0
    assert "Lise Meitner" not in titles(bm25.search(query, 1))


def test_indexes_follow_the_store_incrementally(corpus: Corpus, source: MemorySource) -> None:
    hybrid = HybridRetriever(source, corpus.embedder, RetrieverOptions())
    first = hybrid.search("WorkPlay Theater in Birmingham", 3)
    assert first[0].chunk.source == "Act of Congress (music group)"
    stored = len(corpus.paragraphs)
    assert sorted(source.texts_fetched[:stored]) == list(range(1, stored + 1))
    assert sorted(source.embeddings_fetched) == list(range(1, stored + 1))

    # nothing changed: the indexes read only the revision and rebuild nothing; the one
    # read is the dense search fetching the texts of its own hits
    source.reset_counts()
    catch_ups = (hybrid.bm25.catch_ups, hybrid.dense.catch_ups)
    hybrid.search("WorkPlay Theater in Birmingham", 3)
    assert source.calls == {"revision": 2, "chunks": 1}
    assert len(source.texts_fetched) == hybrid.options.fusion_depth
    assert (hybrid.bm25.catch_ups, hybrid.dense.catch_ups) == catch_ups

    # two new chunks: only they are fetched, once for each index
    source.reset_counts()
    quokka = source.add("Quokka", "The quokka is a small marsupial of Rottnest Island.")
    other = source.add("Quokka colony", "Rottnest Island hosts a quokka colony near Perth.")
    hits = hybrid.search("quokka marsupial on Rottnest Island", 2)
    assert [h.chunk.id for h in hits] == [quokka, other]
    assert source.calls == {"revision": 2, "chunk_ids": 2, "chunks": 2, "embeddings": 1}
    assert source.embeddings_fetched == [quokka, other]
    assert source.texts_fetched[:2] == [quokka, other]  # then the dense search's hits
    assert (hybrid.bm25.catch_ups, hybrid.dense.catch_ups) == (catch_ups[0] + 1, catch_ups[1] + 1)

    # a removed chunk disappears without fetching any text or embedding for the indexes
    source.reset_counts()
    source.remove(quokka)
    hits = hybrid.search("quokka marsupial on Rottnest Island", 2)
    assert hits[0].chunk.id == other and quokka not in {h.chunk.id for h in hits}
    assert source.calls == {"revision": 2, "chunk_ids": 2, "chunks": 1}
    assert quokka not in source.texts_fetched

    # removing a paragraph of the corpus: bm25 no longer finds its rare term
    source.remove(source.id_of("Act of Congress (music group)"))
    assert hybrid.bm25.search("WorkPlay", 5) == []


def test_an_empty_store_and_an_emptied_one(corpus: Corpus) -> None:
    source = MemorySource(corpus)
    for name in ("bm25", "dense", "hybrid"):
        assert (
            RETRIEVERS.create(name, source, corpus.embedder, RetrieverOptions()).search(
                "anything", 5
            )
            == []
        )
    chunk_id = source.add("GameFan")
    hybrid = HybridRetriever(source, corpus.embedder, RetrieverOptions())
    assert [h.chunk.id for h in hybrid.search("video game magazine", 5)] == [chunk_id]
    source.remove(chunk_id)
    assert hybrid.search("video game magazine", 5) == []


def test_hybrid_weights(corpus: Corpus, source: MemorySource) -> None:
    query = corpus.questions[0].question
    bm25 = [h.chunk.id for h in BM25Retriever(source, corpus.embedder).search(query, 5)]
    dense = [h.chunk.id for h in DenseRetriever(source, corpus.embedder).search(query, 5)]
    only_bm25 = HybridRetriever(source, corpus.embedder, RetrieverOptions(dense_weight=0))
    only_dense = HybridRetriever(source, corpus.embedder, RetrieverOptions(bm25_weight=0))
    assert [h.chunk.id for h in only_bm25.search(query, 5)] == bm25
    assert [h.chunk.id for h in only_dense.search(query, 5)] == dense
    both = HybridRetriever(source, corpus.embedder, RetrieverOptions(rrf_k=60))
    top = both.search(query, 1)[0]
    expected = dict(rrf([bm25, dense], [1.0, 1.0], 60))
    assert top.score == pytest.approx(max(expected.values()))


def test_rrf_arithmetic_is_exact() -> None:
    one = Fraction(1)
    fused = rrf([[10, 20, 30], [20, 40]], [one, Fraction(1, 2)], k=60)
    assert fused == [
        (20, Fraction(1, 62) + Fraction(1, 2) / 61),
        (10, Fraction(1, 61)),
        (30, Fraction(1, 63)),
        (40, Fraction(1, 2) / 62),
    ]
    # equal scores come in id order; an empty ranking adds nothing
    assert rrf([[7, 3], [3, 7], []], [one, one, one], k=1) == [
        (3, Fraction(1, 2) + Fraction(1, 3)),
        (7, Fraction(1, 2) + Fraction(1, 3)),
    ]
    assert rrf([[1, 2]], [2.0], k=60) == [(1, 2.0 / 61), (2, 2.0 / 62)]
    assert rrf([], [], k=60) == []
    with pytest.raises(ValueError, match="2 rankings but 1 weights"):
        rrf([[1], [2]], [1.0])
    with pytest.raises(ValueError, match="twice"):
        rrf([[1, 1]], [1.0])


def test_the_registry() -> None:
    assert RETRIEVERS.names() == ["bm25", "dense", "hybrid", "langchain"]
    assert RETRIEVERS.get("hybrid") is HybridRetriever
    with pytest.raises(ConfigError, match=r"unknown retriever 'sparse' \(known: bm25, dense, "):
        RETRIEVERS.check("sparse")


def test_options_are_checked() -> None:
    assert RetrieverOptions().rrf_k == 60
    with pytest.raises(ValueError):
        RetrieverOptions(bm25_weight=-1)
    with pytest.raises(ValueError):
        RetrieverOptions(rrf=60)  # type: ignore[call-arg]
