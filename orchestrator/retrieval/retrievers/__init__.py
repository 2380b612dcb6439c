"""Retrievers: search over the document store's chunks, each behind `Retriever`.
Registry: RETRIEVERS (`bm25`, `dense`, `hybrid`, and `langchain`, any LangChain retriever named
by `RetrieverOptions.langchain_factory`; imported on first use, it needs langchain-core).
Every factory takes (source, embedder, options)."""

from __future__ import annotations

from orchestrator.errors import ConfigError
from orchestrator.retrieval.retrievers.base import Retriever, RetrieverOptions, SyncedRetriever
from orchestrator.retrieval.retrievers.bm25 import BM25Retriever
from orchestrator.retrieval.retrievers.dense import DenseRetriever
from orchestrator.retrieval.retrievers.hybrid import HybridRetriever, rrf
from workers.registry import Registry

RETRIEVERS: Registry[Retriever] = Registry(
    "retriever",
    {
        BM25Retriever.name: BM25Retriever,
        DenseRetriever.name: DenseRetriever,
        HybridRetriever.name: HybridRetriever,
        "langchain": "orchestrator.retrieval.langchain:LangChainRetriever",
    },
    error=ConfigError,
)

__all__ = [
    "RETRIEVERS",
    "BM25Retriever",
    "DenseRetriever",
    "HybridRetriever",
    "Retriever",
    "RetrieverOptions",
    "SyncedRetriever",
    "rrf",
]
