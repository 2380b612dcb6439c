"""The Documents page's reads of the document store, a page at a time in SQL (documents by
source with a text filter, a document's chunks by position), and an uploaded file turned
into the same `DocumentIn` that POST /v1/admin/documents takes: its text read by the readers
`symoe docs add` uses (text, Markdown, HTML, PDF), then validated by that model."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import func, select

from orchestrator.api.dashboard.form_errors import error_line
from orchestrator.api.documents.schemas import DocumentIn
from orchestrator.db.documents import DocumentInfo, DocumentStore, document_info
from orchestrator.db.retrieval_models import ChunkRow, DocumentRow
from orchestrator.errors import InputError
from orchestrator.retrieval.readers import SUPPORTED_SUFFIXES, ReadError, read_file

UPLOAD_SUFFIXES = sorted(SUPPORTED_SUFFIXES - {".jsonl"})  # a corpus needs field names: CLI


@dataclass(frozen=True)
class ChunkLine:
    position: int
    tokens: int
    text: str


@dataclass(frozen=True)
class StoreTotals:
    documents: int
    chunks: int


def totals(store: DocumentStore) -> StoreTotals:
    with store.sessions() as session:
        count, chunks = session.execute(
            select(func.count(), func.coalesce(func.sum(DocumentRow.n_chunks), 0))
        ).one()
    return StoreTotals(int(count), int(chunks))


def documents_page(
    store: DocumentStore, text: str, offset: int, limit: int
) -> tuple[int, list[DocumentInfo]]:
    """(documents whose source contains `text`, that page of them by source)."""
    counted = select(func.count()).select_from(DocumentRow)
    listed = select(DocumentRow).order_by(DocumentRow.source)
    if text:
        where = DocumentRow.source.contains(text, autoescape=True)
        counted, listed = counted.where(where), listed.where(where)
    with store.sessions() as session:
        total = session.scalar(counted)
        rows = session.scalars(listed.offset(offset).limit(limit))
        return int(total or 0), [document_info(r) for r in rows]


def document(store: DocumentStore, ref: str) -> DocumentInfo | None:
    """The document with id `ref` (a path segment: anything not a number is no document)."""
    if not ref.isdigit() or len(ref) > 18:
        return None
    with store.sessions() as session:
        row = session.get(DocumentRow, int(ref))
        return None if row is None else document_info(row)


def chunks_page(store: DocumentStore, document_id: int, offset: int, limit: int) -> list[ChunkLine]:
    query = (
        select(ChunkRow.position, ChunkRow.tokens, ChunkRow.text)
        .where(ChunkRow.document_id == document_id)
        .order_by(ChunkRow.position)
        .offset(offset)
        .limit(limit)
    )
    with store.sessions() as session:
        return [ChunkLine(r.position, r.tokens, r.text) for r in session.execute(query)]


def uploaded_document(filename: str, data: bytes, source: str) -> DocumentIn:
    """An uploaded file as a document named `source` (default: the file's name); a file that
    cannot be read, or a document the API would refuse, is an InputError saying why."""
    name = Path(filename.replace("\\", "/")).name  # a browser may send a whole path
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise InputError(
            f"{name or 'the upload'}: unsupported file type {suffix or '(none)'!r} "
            f"(supported: {', '.join(UPLOAD_SUFFIXES)})"
        )
    with tempfile.TemporaryDirectory(prefix="symoe-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            read = read_file(path)
        except ReadError as exc:
            raise InputError(f"{name}: {exc}") from None
    metadata = read.metadata | {"uploaded": name}
    try:
        return DocumentIn(source=source.strip() or name, text=read.text, metadata=metadata)
    except ValidationError as exc:
        raise InputError(error_line(exc)) from None
