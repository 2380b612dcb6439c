"""Wire models of /v1/admin/documents. Stored documents travel as db.documents.DocumentInfo."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.retrieval.ingest import Outcome

# The request body is also bounded by api_max_body_bytes (413), counted before parsing.
MAX_DOCUMENTS = 1000
MAX_SOURCE_CHARS = 1024
MAX_TEXT_CHARS = 10_000_000


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(
        min_length=1,
        max_length=MAX_SOURCE_CHARS,
        description="the document's name; the same source again replaces it (or, with the "
        "same text, leaves it unchanged)",
    )
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    metadata: dict[str, Any] = Field(default_factory=dict)


class DocumentResult(BaseModel):
    source: str
    outcome: Outcome = Field(
        description="added, replaced, unchanged, or failed (nothing of it stored: `message`)"
    )
    message: str = ""
    chunks: int = Field(description="chunks stored (0 when unchanged or failed)")


class DocumentsAdded(BaseModel):
    documents: list[DocumentResult] = Field(description="one per document sent, in order")
    counts: dict[Outcome, int] = Field(description="documents per outcome, every outcome named")


class DocumentHit(BaseModel):
    rank: int
    score: float
    retriever: str
    source: str
    chunk_id: int
    position: int = Field(description="the chunk's index within its document")
    text: str
