"""/admin/documents: the document store, a page of documents at a time (filtered by source)
with their chunk counts; one document's chunks; ingest an uploaded file (multipart, with the
CSRF token) through the same DocumentsService, and so the same chunking, embedding and
outcomes, as POST /v1/admin/documents; remove a document and its chunks."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote_plus, urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from orchestrator.api.dashboard.auth import ActorDep, Viewer, ViewerDep
from orchestrator.api.dashboard.documents_view import (
    UPLOAD_SUFFIXES,
    chunks_page,
    document,
    documents_page,
    totals,
    uploaded_document,
)
from orchestrator.api.dashboard.page_numbers import PAGE_SIZE, Pager, parse_page
from orchestrator.api.dashboard.templating import render
from orchestrator.api.documents.service import DocumentsService
from orchestrator.api.errors import ApiError
from orchestrator.db.documents import DocumentStore
from orchestrator.errors import InputError

router = APIRouter(prefix="/admin/documents", include_in_schema=False)
Text = Annotated[str | None, Query(max_length=1000)]


def _service(request: Request) -> DocumentsService:
    return request.app.state.documents  # type: ignore[no-any-return]


def _store(request: Request) -> DocumentStore:
    return _service(request).store


def _list_page(
    request: Request, who: Viewer, q: str | None, page: str | None, status: int = 200, **extra: Any
) -> Response:
    try:
        number = parse_page(page)
    except InputError as exc:
        return render(request, "message.html", who, 400, title="Documents", message=str(exc))
    store = _store(request)
    total, documents = documents_page(store, q or "", (number - 1) * PAGE_SIZE, PAGE_SIZE)
    return render(
        request,
        "documents.html",
        who,
        status,
        documents=documents,
        totals=totals(store),
        q=q or "",
        pager=Pager(number, total),
        pager_query=urlencode({"q": q}) + "&" if q else "",
        suffixes=UPLOAD_SUFFIXES,
        max_bytes=request.app.state.services.settings.api_max_body_bytes,
        done=request.query_params.get("done"),
        **extra,
    )


@router.get("")
def documents_list(request: Request, who: ViewerDep, q: Text = None, page: Text = None) -> Response:
    return _list_page(request, who, q, page)


@router.post("")
def upload(
    request: Request,
    who: ActorDep,
    file: Annotated[UploadFile | None, File()] = None,
    source: Annotated[str, Form()] = "",
) -> Response:
    if file is None or not file.filename:
        return _list_page(request, who, None, None, 400, error="choose a file to upload")
    try:
        doc = uploaded_document(file.filename, file.file.read(), source)
        added = _service(request).add([doc])
    except InputError as exc:
        return _list_page(request, who, None, None, 400, error=str(exc), draft=source)
    except ApiError as exc:  # the embedding model missing: 503
        return _list_page(request, who, None, None, exc.status, error=exc.message, draft=source)
    (result,) = added.documents
    if result.outcome == "failed":
        message = f"{result.source}: not stored ({result.message})"
        return _list_page(request, who, None, None, 400, error=message, draft=source)
    done = f"{result.outcome} {result.source} ({result.chunks} chunks)"
    if result.outcome == "unchanged":
        done = f"unchanged {result.source}: the same text is stored already"
    return RedirectResponse(f"/admin/documents?done={quote_plus(done)}", status_code=303)


@router.get("/{ref}")
def document_page(request: Request, who: ViewerDep, ref: str, page: Text = None) -> Response:
    store = _store(request)
    info = document(store, ref)
    if info is None:
        message = f"no document with id {ref!r}"
        return render(request, "message.html", who, 404, title="Documents", message=message)
    try:
        number = parse_page(page)
    except InputError as exc:
        return render(request, "message.html", who, 400, title="Documents", message=str(exc))
    pager = Pager(number, info.n_chunks)
    chunks = chunks_page(store, info.id, pager.offset, pager.size)
    return render(request, "document.html", who, doc=info, chunks=chunks, pager=pager)


@router.post("/{ref}/delete")
def delete(request: Request, who: ActorDep, ref: str) -> Response:
    info = document(_store(request), ref)
    if info is None:
        message = f"no document with id {ref!r}"
        return render(request, "message.html", who, 404, title="Documents", message=message)
    try:
        removed = _service(request).remove(info.source)
    except ApiError as exc:  # removed meanwhile
        return render(
            request, "message.html", who, exc.status, title="Documents", message=exc.message
        )
    done = quote_plus(f"removed {removed.source} ({removed.n_chunks} chunks)")
    return RedirectResponse(f"/admin/documents?done={done}", status_code=303)
