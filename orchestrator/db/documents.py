"""DocumentStore: ingested documents and their chunks with embeddings (`symoe docs`).

It is the `ChunkSource` retrievers read (orchestrator/retrieval/types.py), and the writer
ingestion stores through (`upsert`, one transaction per document: a document is stored whole
or not at all, and new content replaces its old chunks in that same transaction)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.db.models import utcnow
from orchestrator.db.retrieval_models import ChunkRow, DocumentRow
from orchestrator.retrieval.types import Chunk, ChunkText, UpsertOutcome

EMBEDDING_DIM = 384  # all-MiniLM-L6-v2
_EMBEDDING_DTYPE = np.dtype("<f4")  # stored as raw little-endian float32 bytes
_NORM_TOLERANCE = 1e-3
# Ids per IN (...) list: SQLite allows 32766 bound parameters (999 before 3.32).
_ID_BATCH = 900


class DocumentInfo(BaseModel):
    id: int
    source: str
    content_sha256: str
    metadata: dict[str, Any]
    n_chunks: int
    created_at: datetime
    updated_at: datetime


def document_info(row: DocumentRow) -> DocumentInfo:
    # Built field by field: the row's `metadata` attribute is SQLAlchemy's (the column is `meta`).
    return DocumentInfo(
        id=row.id,
        source=row.source,
        content_sha256=row.content_sha256,
        metadata=row.meta,
        n_chunks=row.n_chunks,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _id_batches(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), _ID_BATCH):
        yield ids[i : i + _ID_BATCH]


def _checked_embeddings(
    text_chunks: list[ChunkText], embeddings: npt.ArrayLike
) -> npt.NDArray[np.float32]:
    vectors = np.asarray(embeddings, dtype=np.float32)
    if vectors.shape != (len(text_chunks), EMBEDDING_DIM):
        raise ValueError(
            f"expected {len(text_chunks)} embeddings of {EMBEDDING_DIM} values, "
            f"got shape {vectors.shape}"
        )
    return vectors


def _checked_vector(vector: npt.NDArray[np.float32], position: int) -> bytes:
    # Checked row by row inside the transaction: a bad row rolls back the rows before it.
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or abs(norm - 1.0) > _NORM_TOLERANCE:
        raise ValueError(f"embedding of chunk {position} is not L2-normalised (norm {norm:.4f})")
    return vector.astype(_EMBEDDING_DTYPE).tobytes()


class DocumentStore:
    """Documents by source (a path, or `<file>#<id>` for a corpus record), their chunks in
    order, and one L2-normalised float32 embedding per chunk."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    # -- writing ---------------------------------------------------------------------------

    def upsert(
        self,
        source: str,
        text_chunks: list[ChunkText],
        embeddings: npt.ArrayLike,
        metadata: dict[str, Any],
        sha256: str,
    ) -> UpsertOutcome:
        """Store a document's chunks in one transaction. The same content (sha256) under the
        same source is left as it is; new content replaces the old chunks."""
        if not text_chunks:
            raise ValueError(f"{source}: a document needs at least one chunk")
        vectors = _checked_embeddings(text_chunks, embeddings)
        with self.sessions.begin() as session:
            row = session.scalar(select(DocumentRow).where(DocumentRow.source == source))
            outcome: UpsertOutcome
            if row is None:
                row = DocumentRow(
                    source=source, content_sha256=sha256, meta=metadata, n_chunks=len(text_chunks)
                )
                session.add(row)
                session.flush()
                outcome = "added"
            elif row.content_sha256 == sha256:
                return "unchanged"
            else:
                session.execute(delete(ChunkRow).where(ChunkRow.document_id == row.id))
                row.content_sha256 = sha256
                row.meta = metadata
                row.n_chunks = len(text_chunks)
                row.updated_at = utcnow()
                outcome = "replaced"
            values = [
                {
                    "document_id": row.id,
                    "position": position,
                    "text": chunk.text,
                    "tokens": chunk.tokens,
                    "embedding": _checked_vector(vectors[position], position),
                }
                for position, chunk in enumerate(text_chunks)
            ]
            session.execute(insert(ChunkRow), values)
        return outcome

    def remove(self, source: str) -> DocumentInfo | None:
        """Delete a document and its chunks; the removed document, or None if unknown."""
        with self.sessions.begin() as session:
            row = session.scalar(select(DocumentRow).where(DocumentRow.source == source))
            if row is None:
                return None
            info = document_info(row)
            # Chunks first, explicitly: no reliance on the database enforcing ON DELETE CASCADE.
            session.execute(delete(ChunkRow).where(ChunkRow.document_id == row.id))
            session.delete(row)
        return info

    # -- ChunkSource -----------------------------------------------------------------------

    def revision(self) -> tuple[int, int]:
        with self.sessions() as session:
            largest, count = session.execute(select(func.max(ChunkRow.id), func.count())).one()
        return int(largest or 0), int(count)

    def chunk_ids(self) -> set[int]:
        with self.sessions() as session:
            return set(session.scalars(select(ChunkRow.id)))

    def chunks(self, ids: Iterable[int]) -> list[Chunk]:
        wanted = list(ids)
        found: dict[int, Chunk] = {}
        columns = (
            ChunkRow.id,
            ChunkRow.document_id,
            DocumentRow.source,
            ChunkRow.position,
            ChunkRow.text,
            ChunkRow.tokens,
        )
        with self.sessions() as session:
            for batch in _id_batches(sorted(set(wanted))):
                query = select(*columns).join(DocumentRow).where(ChunkRow.id.in_(batch))
                for r in session.execute(query):
                    found[r.id] = Chunk(
                        id=r.id,
                        document_id=r.document_id,
                        source=r.source,
                        position=r.position,
                        text=r.text,
                        tokens=r.tokens,
                    )
        return [found[i] for i in wanted if i in found]

    def embeddings(self, ids: list[int]) -> npt.NDArray[np.float32]:
        out = np.empty((len(ids), EMBEDDING_DIM), dtype=np.float32)
        rows: dict[int, bytes] = {}
        with self.sessions() as session:
            for batch in _id_batches(sorted(set(ids))):
                query = select(ChunkRow.id, ChunkRow.embedding).where(ChunkRow.id.in_(batch))
                rows.update((r.id, r.embedding) for r in session.execute(query))
        for i, chunk_id in enumerate(ids):
            if chunk_id not in rows:
                raise KeyError(f"no chunk with id {chunk_id}")
            out[i] = np.frombuffer(rows[chunk_id], dtype=_EMBEDDING_DTYPE)
        return out

    # -- reading documents (last: the method `list` shadows the builtin in annotations) --

    def list(self) -> list[DocumentInfo]:
        with self.sessions() as session:
            rows = session.scalars(select(DocumentRow).order_by(DocumentRow.source))
            return [document_info(r) for r in rows]

    def get(self, source: str) -> DocumentInfo | None:
        with self.sessions() as session:
            row = session.scalar(select(DocumentRow).where(DocumentRow.source == source))
            return None if row is None else document_info(row)

    def stored_sha256(self, source: str) -> str | None:
        """The stored content hash of a source (ingestion skips unchanged files before
        embedding them)."""
        with self.sessions() as session:
            return session.scalar(
                select(DocumentRow.content_sha256).where(DocumentRow.source == source)
            )
