"""What /v1/admin/documents does: documents sent as JSON take the same path as `symoe docs
add`'s files (`Ingester.ingest_documents`: chunked, embedded, one transaction per document,
unchanged ones skipped by hash); removal and listing go to the DocumentStore, and search to
the deployment's retriever, the one the planner searches with (its index follows the store)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from orchestrator.api.documents.schemas import (
    DocumentHit,
    DocumentIn,
    DocumentResult,
    DocumentsAdded,
)
from orchestrator.api.errors import ApiError
from orchestrator.db.documents import DocumentInfo, DocumentStore
from orchestrator.retrieval.ingest import Ingester, summary
from orchestrator.retrieval.readers import SourceText
from orchestrator.retrieval.retrievers import Retriever
from skills.embeddings import EmbeddingModelMissing


@contextmanager
def _embedding_model() -> Iterator[None]:
    try:
        yield
    except EmbeddingModelMissing as exc:
        raise ApiError(503, str(exc), code="embedding_model_missing") from None


class DocumentsService:
    def __init__(
        self, store: DocumentStore, ingester: Ingester, retriever: Callable[[], Retriever]
    ) -> None:
        """`retriever` is called on the first search (building one may import LangChain)."""
        self.store = store
        self.ingester = ingester
        self._retriever = retriever

    def list_documents(self) -> list[DocumentInfo]:
        return self.store.list()

    def add(self, documents: list[DocumentIn]) -> DocumentsAdded:
        texts = [SourceText(d.source, d.text, d.metadata) for d in documents]
        with _embedding_model():
            results = self.ingester.ingest_documents(texts)
        return DocumentsAdded(
            documents=[
                DocumentResult(
                    source=r.source, outcome=r.outcome, message=r.message, chunks=r.chunks
                )
                for r in results
            ],
            counts=summary(results),
        )

    def remove(self, source: str) -> DocumentInfo:
        removed = self.store.remove(source)
        if removed is None:
            raise ApiError(404, f"no document {source!r}", param="source", code="unknown_document")
        return removed

    def search(self, query: str, k: int) -> list[DocumentHit]:
        with _embedding_model():
            hits = self._retriever().search(query, k)
        return [
            DocumentHit(
                rank=h.rank,
                score=h.score,
                retriever=h.retriever,
                source=h.chunk.source,
                chunk_id=h.chunk.id,
                position=h.chunk.position,
                text=h.chunk.text,
            )
            for h in hits
        ]
