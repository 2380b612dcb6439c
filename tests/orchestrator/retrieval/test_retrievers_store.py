"""The retrievers over the real DocumentStore (SQLite, and PostgreSQL when marked): HotpotQA
paragraphs stored with their MiniLM embeddings, then documents added, replaced and removed
between searches, which follow."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from orchestrator.db import DocumentStore, Stores, make_engine, migrate, session_factory
from orchestrator.retrieval.retrievers import RETRIEVERS, HybridRetriever, RetrieverOptions
from orchestrator.retrieval.types import ChunkText
from tests.orchestrator.retrieval.hotpot import Corpus, hotpot_corpus
from tests.postgres_support import throwaway_schema

pytestmark = [pytest.mark.embeddings, pytest.mark.data]


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return hotpot_corpus()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DocumentStore]:
    with ExitStack() as stack:
        if request.param == "sqlite":
            engine = make_engine(f"sqlite:///{tmp_path / 'symoe.db'}")
        else:
            engine = make_engine(stack.enter_context(throwaway_schema()))
        stack.callback(engine.dispose)
        migrate(engine)
        stores = Stores(session_factory(engine))
        stack.callback(stores.keys.close)
        yield stores.documents


def put(store: DocumentStore, corpus: Corpus, title: str, text: str | None = None) -> None:
    """One document of one chunk, embedded (the corpus's own vector for its paragraphs)."""
    if text is None:
        text, vector = corpus.paragraphs[title], corpus.embeddings[title]
    else:
        vector = corpus.embedder.encode([text])[0]
    piece = ChunkText(text=text, tokens=len(text.split()), start=0, end=len(text))
    sha = hashlib.sha256(text.encode()).hexdigest()
    store.upsert(title, [piece], vector[None, :], {}, sha)


def test_hybrid_over_the_document_store(corpus: Corpus, store: DocumentStore) -> None:
    for title in corpus.paragraphs:
        put(store, corpus, title)
    hybrid = RETRIEVERS.create("hybrid", store, corpus.embedder, RetrieverOptions())
    assert isinstance(hybrid, HybridRetriever)
    for question in corpus.questions:
        hits = hybrid.search(question.question, 5)
        assert question.gold_titles & {h.chunk.source for h in hits}, question.question

    query = "quokka marsupial on Rottnest Island"
    assert "Quokka" not in {h.chunk.source for h in hybrid.search(query, 5)}
    put(store, corpus, "Quokka", "The quokka is a small marsupial of Rottnest Island.")
    assert hybrid.search(query, 1)[0].chunk.source == "Quokka"

    # new content under the same source replaces its chunk; the old text is no longer found
    put(store, corpus, "Quokka", "Pumpernickel is a dense rye bread from Westphalia.")
    assert hybrid.bm25.search("Rottnest", 5) == []
    assert hybrid.search("rye bread from Westphalia", 1)[0].chunk.source == "Quokka"

    store.remove("Quokka")
    store.remove("Act of Congress (music group)")
    assert hybrid.bm25.search("Westphalia WorkPlay", 5) == []
    assert "Quokka" not in {h.chunk.source for h in hybrid.dense.search("rye bread", 5)}
    assert (hybrid.bm25.catch_ups, hybrid.dense.catch_ups) == (4, 4)
