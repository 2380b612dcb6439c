"""LangChain both ways, for real: a symoe retriever inside an LCEL chain and inside
LangChain's EnsembleRetriever, and LangChain retrievers (one of symoe's own, and an
InMemoryVectorStore loaded from a "module:attribute" factory) as symoe retrievers."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

pytest.importorskip("langchain_core")

from langchain_core.documents import Document
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from orchestrator.errors import ConfigError
from orchestrator.retrieval.langchain import LangChainRetriever, SymoeRetriever
from orchestrator.retrieval.retrievers import (
    RETRIEVERS,
    BM25Retriever,
    DenseRetriever,
    HybridRetriever,
    RetrieverOptions,
    rrf,
)
from tests.orchestrator.retrieval.hotpot import Corpus, MemorySource, full_source, hotpot_corpus

pytestmark = [pytest.mark.embeddings, pytest.mark.data]

# A LangChain retriever of LangChain's own (an in-memory vector store over MiniLM), built by
# a factory the way a deployment would name one: "module:attribute".
FACTORY_MODULE = """
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import InMemoryVectorStore

from skills.embeddings import MiniLMEmbedder, default_model_dir


class MiniLMEmbeddings(Embeddings):
    def __init__(self) -> None:
        self.model = MiniLMEmbedder(default_model_dir())

    def embed_documents(self, texts):
        return self.model.encode(list(texts)).tolist()

    def embed_query(self, text):
        return self.model.encode([text])[0].tolist()


def make_retriever():
    store = InMemoryVectorStore(MiniLMEmbeddings())
    store.add_texts(
        [
            "The quokka is a small marsupial that lives on Rottnest Island.",
            "Pumpernickel is a dense rye bread from Westphalia.",
            "The Goetheanum in Dornach is the centre of the anthroposophical movement.",
        ],
        metadatas=[{"source": "quokka.txt"}, {"source": "bread.txt"}, {"source": "dornach.txt"}],
    )
    return store.as_retriever(search_kwargs={"k": 2})


NOT_A_RETRIEVER = 42
"""


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return hotpot_corpus()


@pytest.fixture
def source(corpus: Corpus) -> MemorySource:
    return full_source(corpus)


def numbered(docs: list[Document]) -> str:
    return "\n".join(
        f"[{n}] {doc.metadata['source']}: {doc.page_content}" for n, doc in enumerate(docs, 1)
    )


def test_symoe_retriever_in_an_lcel_chain(corpus: Corpus, source: MemorySource) -> None:
    question = corpus.questions[1]  # Jörgen Smit and the Goetheanum
    retriever = SymoeRetriever(retriever=HybridRetriever(source, corpus.embedder), k=3)
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "Answer from the numbered sources and cite them as [n]."),
            ("human", "Sources:\n{context}\n\nQuestion: {question}"),
        ]
    )
    chain = (
        {"context": retriever | RunnableLambda(numbered), "question": RunnablePassthrough()}
        | prompt
        | RunnableLambda(lambda value: value.to_string())
    )
    text = chain.invoke(question.question)
    assert text.startswith("System: Answer from the numbered sources")
    assert f"Question: {question.question}" in text
    assert "[1] " in text and "[3] " in text and "[4] " not in text
    assert any(f"] {title}: " in text for title in question.gold_titles)

    docs = retriever.invoke(question.question)
    hits = retriever.retriever.search(question.question, 3)
    assert [d.page_content for d in docs] == [h.chunk.text for h in hits]
    assert [d.metadata["chunk_id"] for d in docs] == [h.chunk.id for h in hits]
    assert docs[0].metadata["score"] == hits[0].score
    assert docs[0].metadata["source"] == hits[0].chunk.source
    assert docs[0].id == str(hits[0].chunk.id)
    # batch and async come from LangChain's Runnable
    batched = retriever.batch([q.question for q in corpus.questions[:2]])
    assert [len(b) for b in batched] == [3, 3]
    assert asyncio.run(retriever.ainvoke(question.question)) == docs


def test_symoe_retrievers_in_langchains_ensemble(corpus: Corpus, source: MemorySource) -> None:
    ensemble_module = pytest.importorskip("langchain_classic.retrievers")
    question = corpus.questions[0].question
    depth = 10
    bm25 = BM25Retriever(source, corpus.embedder)
    dense = DenseRetriever(source, corpus.embedder)
    ensemble = ensemble_module.EnsembleRetriever(
        retrievers=[
            SymoeRetriever(retriever=bm25, k=depth),
            SymoeRetriever(retriever=dense, k=depth),
        ],
        weights=[0.7, 0.3],
        id_key="chunk_id",
    )
    docs = ensemble.invoke(question)
    ids = [d.metadata["chunk_id"] for d in docs]
    # LangChain's weighted RRF and symoe's agree: the same chunks, in order of symoe's scores
    ours = dict(
        rrf(
            [
                [h.chunk.id for h in bm25.search(question, depth)],
                [h.chunk.id for h in dense.search(question, depth)],
            ],
            [0.7, 0.3],
            k=60,
        )
    )
    assert set(ids) == set(ours)
    assert [ours[i] for i in ids] == sorted(ours.values(), reverse=True)
    hybrid = HybridRetriever(
        source, corpus.embedder, RetrieverOptions(bm25_weight=0.7, dense_weight=0.3, fusion_depth=1)
    )
    fused = hybrid.search(question, depth)
    assert [h.score for h in fused] == pytest.approx([ours[i] for i in ids[:depth]])


def test_a_langchain_retriever_as_a_symoe_retriever(corpus: Corpus, source: MemorySource) -> None:
    hybrid = HybridRetriever(source, corpus.embedder)
    wrapped = LangChainRetriever(
        source, corpus.embedder, retriever=SymoeRetriever(retriever=hybrid, k=10)
    )
    question = corpus.questions[2].question
    hits = wrapped.search(question, 5)
    direct = hybrid.search(question, 5)
    assert [(h.chunk, h.score, h.rank) for h in hits] == [
        (h.chunk, h.score, h.rank) for h in direct
    ]
    assert {h.retriever for h in hits} == {"langchain"}
    assert wrapped.search(question, 0) == []


def test_a_langchain_retriever_from_config(
    corpus: Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "symoe_test_lc_factory.py").write_text(FACTORY_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "symoe_test_lc_factory", raising=False)
    source = MemorySource(corpus)  # unused by a LangChain retriever: it has its own store
    options = RetrieverOptions(langchain_factory="symoe_test_lc_factory:make_retriever")
    retriever = RETRIEVERS.create("langchain", source, corpus.embedder, options)
    assert isinstance(retriever, LangChainRetriever)
    hits = retriever.search("a marsupial found on an island near Perth", 1)
    assert len(hits) == 1
    (hit,) = hits
    assert hit.chunk.source == "quokka.txt" and "quokka" in hit.chunk.text
    assert (hit.chunk.id, hit.rank, hit.score, hit.retriever) == (-1, 1, 1.0, "langchain")
    assert hit.chunk.tokens == len(hit.chunk.text.split())
    assert retriever.search("rye bread", 5)[0].chunk.source == "bread.txt"
    assert source.calls == {}

    for factory, message in [
        (None, "needs langchain_factory"),
        ("symoe_test_lc_factory", "is not 'module:attribute'"),
        ("symoe_test_lc_factory:missing", "cannot be loaded"),
        ("no_such_module_anywhere:thing", "cannot be loaded"),
        ("symoe_test_lc_factory:NOT_A_RETRIEVER", "gave int, not a LangChain BaseRetriever"),
    ]:
        with pytest.raises(ConfigError, match=message):
            RETRIEVERS.create(
                "langchain", source, corpus.embedder, RetrieverOptions(langchain_factory=factory)
            )
