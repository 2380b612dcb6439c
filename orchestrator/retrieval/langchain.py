"""LangChain both ways (needs langchain-core: pip install "symoe[langchain]"; nothing else in
symoe imports this module, except `RETRIEVERS` on first use of the name `langchain`).

- `SymoeRetriever` is a LangChain `BaseRetriever` over any symoe `Retriever`: it drops into an
  LCEL chain (`{"context": SymoeRetriever(...) | format_docs, ...} | prompt | model`) or into
  LangChain's `EnsembleRetriever` beside other retrievers. Each `Document` carries the chunk's
  text and, in its metadata, `source`, `chunk_id`, `score` (and `document_id`, `position`,
  `rank`, `retriever`).
- `LangChainRetriever` is a symoe `Retriever` over any LangChain retriever, registered in
  `RETRIEVERS` as `langchain`: `RetrieverOptions.langchain_factory` names it as
  "module:attribute", either a `BaseRetriever` or a callable with no arguments returning one.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import Field

from orchestrator.errors import ConfigError
from orchestrator.retrieval.retrievers.base import Retriever, RetrieverOptions
from orchestrator.retrieval.types import Chunk, ChunkSource, SearchHit
from skills.embeddings import Embedder


def hit_document(hit: SearchHit) -> Document:
    chunk = hit.chunk
    metadata = {
        "source": chunk.source,
        "chunk_id": chunk.id,
        "score": hit.score,
        "document_id": chunk.document_id,
        "position": chunk.position,
        "rank": hit.rank,
        "retriever": hit.retriever,
    }
    return Document(page_content=chunk.text, metadata=metadata, id=str(chunk.id))


class SymoeRetriever(BaseRetriever):
    """A symoe retriever as a LangChain retriever: the `k` best chunks as `Document`s."""

    retriever: Retriever
    k: int = Field(default=4, ge=1)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [hit_document(hit) for hit in self.retriever.search(query, self.k)]


def load_langchain_retriever(path: str) -> BaseRetriever:
    """The retriever "module:attribute" names: the attribute itself, or what calling it returns."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"langchain_factory {path!r} is not 'module:attribute'")
    try:
        target: Any = getattr(import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"langchain_factory {path!r} cannot be loaded: {exc}") from exc
    if not isinstance(target, BaseRetriever) and callable(target):
        target = target()
    if not isinstance(target, BaseRetriever):
        raise ConfigError(
            f"langchain_factory {path!r} gave {type(target).__name__}, not a LangChain "
            "BaseRetriever"
        )
    return target


def _metadata_int(metadata: dict[str, Any], key: str, default: int) -> int:
    value = metadata.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


class LangChainRetriever(Retriever):
    """Any LangChain retriever as a symoe retriever. Its documents become hits ranked in the
    order it returned them. A document without symoe's metadata gets chunk id -rank (negative:
    not a chunk of symoe's store), source "langchain", score 1/rank and its word count as
    tokens. `source` and `embedder` are unused: the LangChain retriever has its own store."""

    name = "langchain"

    def __init__(
        self,
        source: ChunkSource,
        embedder: Embedder,
        options: RetrieverOptions | None = None,
        *,
        retriever: BaseRetriever | None = None,
    ) -> None:
        super().__init__(source, embedder, options)
        if retriever is None:
            if not self.options.langchain_factory:
                raise ConfigError(
                    "retriever 'langchain' needs langchain_factory 'module:attribute'"
                )
            retriever = load_langchain_retriever(self.options.langchain_factory)
        self.langchain = retriever

    def search(self, query: str, k: int) -> list[SearchHit]:
        if k < 1:
            return []
        documents = self.langchain.invoke(query)[:k]
        return [document_hit(doc, rank, self.name) for rank, doc in enumerate(documents, start=1)]


def document_hit(document: Document, rank: int, retriever: str) -> SearchHit:
    metadata = document.metadata
    score = metadata.get("score")
    chunk = Chunk(
        id=_metadata_int(metadata, "chunk_id", -rank),
        document_id=_metadata_int(metadata, "document_id", -1),
        source=str(metadata.get("source", "langchain")),
        position=_metadata_int(metadata, "position", 0),
        text=document.page_content,
        tokens=_metadata_int(metadata, "tokens", len(document.page_content.split())),
    )
    return SearchHit(
        chunk=chunk,
        score=float(score) if isinstance(score, int | float) else 1.0 / rank,
        rank=rank,
        retriever=retriever,
    )
