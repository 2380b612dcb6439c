"""What the document store hands to retrievers, and what a search returns. The store
(orchestrator/db/documents.py) satisfies `ChunkSource`; retrievers (retrievers.py) read
only through it, so an index can follow the store without knowing the database."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field


class Chunk(BaseModel):
    id: int
    document_id: int
    source: str = Field(description="the document's source: a path, or a corpus record id")
    position: int = Field(description="the chunk's index within its document")
    text: str
    tokens: int


class ChunkText(BaseModel):
    """A chunk as chunking cuts it, before it is stored: `text` is the exact span
    `[start, end)` of the document's text."""

    text: str
    tokens: int = Field(ge=1)
    start: int = Field(ge=0)
    end: int = Field(ge=0)


# What storing one document did: new source, new content for a known source, or nothing.
UpsertOutcome = Literal["added", "replaced", "unchanged"]


class SearchHit(BaseModel):
    chunk: Chunk
    score: float
    rank: int = Field(ge=1)
    retriever: str


class ChunkSource(Protocol):
    def revision(self) -> tuple[int, int]:
        """Changes whenever a chunk is added or removed (the largest chunk id and the number
        of chunks): an index compares it before a search and catches up only then."""

    def chunk_ids(self) -> set[int]:
        """The ids of every stored chunk."""

    def chunks(self, ids: Iterable[int]) -> list[Chunk]:
        """The chunks with these ids, in the order asked (unknown ids are left out)."""

    def embeddings(self, ids: list[int]) -> npt.NDArray[np.float32]:
        """One L2-normalised all-MiniLM-L6-v2 vector per id, in order: shape (len(ids), 384)."""
