"""The retrieval tables: ingested documents, their embedded chunks, and fitted retrieval
gates. Same declarative base and conventions as models.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.db.models import Base, Json, utcnow
from orchestrator.db.types import UTCDateTime


class DocumentRow(Base):
    """An ingested document: a file, or one record of a JSONL corpus (`<file>#<id>`)."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(1024), unique=True)
    # The text's SHA-256: re-ingesting unchanged content is skipped by comparing it.
    content_sha256: Mapped[str] = mapped_column(String(64))
    meta: Mapped[Json] = mapped_column("metadata", JSON)  # "metadata" is taken by Base
    n_chunks: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChunkRow(Base):
    """A span of a document's text with its all-MiniLM-L6-v2 embedding: 384 float32 values,
    L2-normalised, as raw little-endian bytes (one format for SQLite and PostgreSQL)."""

    __tablename__ = "chunks"
    # AUTOINCREMENT on SQLite: ids are never reused, so (largest id, count) changes whenever
    # chunks change (ChunkSource.revision), even when the newest chunk was deleted.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)  # index within the document
    text: Mapped[str] = mapped_column(Text)
    tokens: Mapped[int] = mapped_column(Integer)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)


class GateArtifactRow(Base):
    """A fitted retrieval gate (`symoe gate fit`), versioned per gate name; one version of
    each gate is active (the one a deployment's gate loads). The labelled examples' vectors
    are raw little-endian float32 bytes, (n_examples, dim), as in `chunks`."""

    __tablename__ = "gate_artifacts"
    __table_args__ = (UniqueConstraint("gate", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    gate: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # stored at
    embedding_model: Mapped[str] = mapped_column(String(128))
    dim: Mapped[int] = mapped_column(Integer)
    n_examples: Mapped[int] = mapped_column(Integer)
    body: Mapped[Json] = mapped_column(JSON)  # the GateArtifact dump without its embeddings
    embeddings: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
