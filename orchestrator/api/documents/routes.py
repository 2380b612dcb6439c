"""Routes of /v1/admin/documents; every one needs an admin key (a user key gets 403)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from orchestrator.api.deps import AdminDep, from_state
from orchestrator.api.documents.schemas import (
    MAX_DOCUMENTS,
    MAX_SOURCE_CHARS,
    DocumentHit,
    DocumentIn,
    DocumentsAdded,
)
from orchestrator.api.documents.service import DocumentsService
from orchestrator.api.errors import ErrorResponse
from orchestrator.db.documents import DocumentInfo

router = APIRouter(prefix="/v1/admin/documents", tags=["admin"])

DocumentsDep = Annotated[DocumentsService, Depends(from_state("documents"))]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorResponse} for code in (401, 403, 429, *codes)}


@router.get("", response_model=list[DocumentInfo], responses=_errors())
def list_documents(admin: AdminDep, service: DocumentsDep) -> list[DocumentInfo]:
    """Every stored document with its chunk count, by source."""
    return service.list_documents()


@router.post("", response_model=DocumentsAdded, responses=_errors(400, 413, 422, 503))
def add_documents(
    admin: AdminDep,
    service: DocumentsDep,
    documents: Annotated[list[DocumentIn], Body(min_length=1, max_length=MAX_DOCUMENTS)],
) -> DocumentsAdded:
    """Chunk, embed and store each document in one transaction of its own. A source already
    stored with the same text is left unchanged; with new text its chunks are replaced. A
    document that cannot be stored (a text without tokens) is `failed` and the rest stored."""
    return service.add(documents)


@router.delete("", response_model=DocumentInfo, responses=_errors(404, 422))
def remove_document(
    admin: AdminDep,
    service: DocumentsDep,
    source: Annotated[str, Query(min_length=1, max_length=MAX_SOURCE_CHARS)],
) -> DocumentInfo:
    """Remove a document and its chunks; the removed document."""
    return service.remove(source)


@router.get("/search", response_model=list[DocumentHit], responses=_errors(400, 422, 503))
def search_documents(
    admin: AdminDep,
    service: DocumentsDep,
    q: Annotated[str, Query(min_length=1, max_length=10_000, description="what to look for")],
    k: Annotated[int, Query(ge=1, le=100, description="how many chunks")] = 5,
) -> list[DocumentHit]:
    """The k chunks that best match `q`, best first, with the server's retriever (the one
    retrieving queries use)."""
    return service.search(q, k)
