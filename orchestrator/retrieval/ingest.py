"""Ingestion: files and folders -> documents -> chunks -> embeddings -> the document store.

File by file (a corpus line by line), so memory stays bounded however many files a folder
holds. A document whose hash (its content and the chunker's settings, `Chunker.settings_key`)
is already stored under its source is skipped before it is embedded; new chunk settings
re-chunk it. Chunks are embedded in batches across documents, and each document is stored in
one transaction of its own (`DocumentWriter.upsert`): a failure leaves no part of it behind.
`Ingester.ingest_documents` is the one path from text to stored chunks: files, corpora and the
admin API's documents all take it."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy.exc import SQLAlchemyError

from orchestrator.retrieval.chunking import Chunker
from orchestrator.retrieval.readers import LineError, ReadError, SourceText, read_corpus, read_file
from orchestrator.retrieval.types import ChunkText, UpsertOutcome
from skills.embeddings import Embedder

log = logging.getLogger(__name__)

Outcome = Literal["added", "replaced", "unchanged", "failed"]
OUTCOMES: tuple[Outcome, ...] = ("added", "replaced", "unchanged", "failed")
BATCH_CHUNKS = 256  # chunks embedded together: one encode call across small documents


class DocumentWriter(Protocol):
    """What ingestion needs of the document store (orchestrator/db/documents.py)."""

    def stored_sha256(self, source: str) -> str | None: ...

    def upsert(
        self,
        source: str,
        text_chunks: list[ChunkText],
        embeddings: npt.ArrayLike,
        metadata: dict[str, Any],
        sha256: str,
    ) -> UpsertOutcome: ...


@dataclass(frozen=True)
class IngestResult:
    source: str  # a document's source, or the file (or `file:line`) that failed
    outcome: Outcome
    message: str = ""
    chunks: int = 0


def _visible_files(folder: Path) -> Iterator[Path]:
    # os.walk prunes hidden folders (.git, .venv) instead of listing them and filtering after.
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if not name.startswith(".") and (Path(root) / name).is_file():
                yield Path(root) / name


def find_files(paths: Iterable[Path]) -> tuple[list[Path], list[IngestResult]]:
    """Each named file, and every file under each named folder (recursively, in name order,
    hidden files and folders left out); a path that does not exist is a failure."""
    files: list[Path] = []
    missing: list[IngestResult] = []
    for path in paths:
        if path.is_dir():
            files.extend(_visible_files(path))
        elif path.is_file():
            files.append(path)
        else:
            missing.append(IngestResult(str(path), "failed", "no such file or folder"))
    return files, missing


def content_sha256(text: str, chunking: str = "") -> str:
    """The hash the unchanged-check compares: the text's, and the chunker's settings (so
    changing SYMOE_CHUNK_TOKENS or SYMOE_CHUNK_OVERLAP re-chunks on the next ingestion)."""
    digest = hashlib.sha256(text.encode("utf-8"))
    if chunking:
        digest.update(f"\0{chunking}".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class _Prepared:
    document: SourceText
    sha256: str
    chunks: list[ChunkText]


class Ingester:
    """Reads, chunks, embeds and stores. `text_field` and `id_field` apply to JSONL corpora."""

    def __init__(
        self,
        store: DocumentWriter,
        embedder: Embedder,
        chunker: Chunker,
        text_field: str = "text",
        id_field: str | None = None,
        batch_chunks: int = BATCH_CHUNKS,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.chunker = chunker
        self.text_field = text_field
        self.id_field = id_field
        self.batch_chunks = batch_chunks

    def ingest(self, paths: Iterable[Path]) -> list[IngestResult]:
        files, results = find_files(paths)
        for path in files:
            results.extend(self.ingest_file(path))
        return results

    def ingest_file(self, path: Path) -> list[IngestResult]:
        """One result per document of the file (one, or one per corpus line)."""
        return self.ingest_documents(self._documents(path))

    def ingest_documents(self, documents: Iterable[SourceText | LineError]) -> list[IngestResult]:
        """Chunk, embed and store each document (a `LineError` is reported as failed), one
        result per item in order. Chunks are embedded in batches of about `batch_chunks`."""
        results: list[IngestResult] = []
        pending: list[_Prepared] = []
        for item in documents:
            if isinstance(item, LineError):
                results.append(IngestResult(item.source, "failed", item.message))
                continue
            prepared = self._prepare(item)
            if isinstance(prepared, IngestResult):
                results.append(prepared)
                continue
            pending.append(prepared)
            if sum(len(p.chunks) for p in pending) >= self.batch_chunks:
                results.extend(self._store(pending))
                pending = []
        results.extend(self._store(pending))  # a corpus's lines read before a late error too
        return results

    def _documents(self, path: Path) -> Iterator[SourceText | LineError]:
        try:
            if path.suffix.lower() == ".jsonl":
                yield from read_corpus(path, self.text_field, self.id_field)
            else:
                yield read_file(path)
        except ReadError as exc:  # the whole file, or a corpus's rest: failed under its path
            yield LineError(str(path), str(exc))

    def _prepare(self, document: SourceText) -> _Prepared | IngestResult:
        sha256 = content_sha256(document.text, self.chunker.settings_key)
        if self.store.stored_sha256(document.source) == sha256:
            return IngestResult(document.source, "unchanged")
        chunks = self.chunker.split(document.text)
        if not chunks:
            return IngestResult(document.source, "failed", "empty (no tokens)")
        return _Prepared(document, sha256, chunks)

    def _store(self, pending: list[_Prepared]) -> list[IngestResult]:
        if not pending:
            return []
        vectors = self.embedder.encode([c.text for p in pending for c in p.chunks])
        results: list[IngestResult] = []
        offset = 0
        for p in pending:
            rows = vectors[offset : offset + len(p.chunks)]
            offset += len(p.chunks)
            source = p.document.source
            try:
                outcome = self.store.upsert(
                    source, p.chunks, np.asarray(rows), p.document.metadata, p.sha256
                )
            except (SQLAlchemyError, ValueError) as exc:
                # The document's transaction rolled back: nothing of it was stored.
                log.debug("storing %s failed: %s", source, exc)  # the result says it too
                message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                results.append(IngestResult(source, "failed", f"not stored ({message})"))
                continue
            results.append(IngestResult(source, outcome, chunks=len(p.chunks)))
        return results


def summary(results: Iterable[IngestResult]) -> dict[Outcome, int]:
    """How many documents ended each way, every outcome named."""
    counts: dict[Outcome, int] = dict.fromkeys(OUTCOMES, 0)
    for result in results:
        counts[result.outcome] += 1
    return counts
