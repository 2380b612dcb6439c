"""DocumentStore, on SQLite and (marked postgres) on PostgreSQL: upsert, replace, skip the
unchanged, remove, and the ChunkSource view retrievers read."""

from __future__ import annotations

import hashlib
from datetime import UTC

import numpy as np
import numpy.typing as npt
import pytest
from alembic import command
from sqlalchemy import Engine, inspect

from orchestrator.db import DocumentStore, Stores, migrate
from orchestrator.db.engine import alembic_config
from orchestrator.retrieval.types import ChunkSource, ChunkText


@pytest.fixture
def store(stores: Stores) -> DocumentStore:
    return stores.documents


def pieces(*texts: str) -> list[ChunkText]:
    out, start = [], 0
    for text in texts:
        end = start + len(text)
        out.append(ChunkText(text=text, tokens=len(text.split()), start=start, end=end))
        start += len(text) + 1
    return out


def unit_vectors(n: int, seed: int) -> npt.NDArray[np.float32]:
    vectors = np.random.default_rng(seed).standard_normal((n, 384)).astype(np.float32)
    normalised: npt.NDArray[np.float32] = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return normalised


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_upsert_stores_chunks_and_embeddings_in_order(store: DocumentStore) -> None:
    assert store.revision() == (0, 0) and store.chunk_ids() == set() and store.list() == []
    vectors = unit_vectors(3, seed=1)
    outcome = store.upsert(
        "a.txt", pieces("one two", "three", "four five six"), vectors, {"type": "txt"}, sha("a")
    )
    assert outcome == "added"
    info = store.get("a.txt")
    assert info is not None and info.n_chunks == 3 and info.metadata == {"type": "txt"}
    assert info.content_sha256 == sha("a") and info.created_at.tzinfo is UTC
    ids = sorted(store.chunk_ids())
    assert len(ids) == 3 and store.revision() == (ids[-1], 3)

    chunks = store.chunks([ids[2], 10_000, ids[0]])  # the order asked; unknown ids left out
    assert [(c.position, c.text, c.tokens, c.source) for c in chunks] == [
        (2, "four five six", 3, "a.txt"),
        (0, "one two", 2, "a.txt"),
    ]
    got = store.embeddings([ids[1], ids[0]])
    assert got.dtype == np.float32 and got.shape == (2, 384)
    np.testing.assert_array_equal(got, vectors[[1, 0]])
    with pytest.raises(KeyError, match="10000"):
        store.embeddings([10_000])
    source: ChunkSource = store  # the protocol retrievers read through
    assert source.chunk_ids() == set(ids)


def test_same_content_is_unchanged_and_new_content_replaces_its_chunks(
    store: DocumentStore,
) -> None:
    store.upsert("doc", pieces("old one", "old two"), unit_vectors(2, 1), {}, sha("old"))
    store.upsert("other", pieces("kept"), unit_vectors(1, 2), {}, sha("other"))
    before = store.revision()
    first = store.get("doc")

    assert store.upsert("doc", pieces("ignored"), unit_vectors(1, 3), {}, sha("old")) == "unchanged"
    assert store.revision() == before and [c.text for c in store.chunks(store.chunk_ids())] == [
        "old one",
        "old two",
        "kept",
    ]

    new = unit_vectors(3, seed=4)
    outcome = store.upsert("doc", pieces("n1", "n2", "n3"), new, {"v": 2}, sha("new"))
    assert outcome == "replaced"
    largest, count = store.revision()
    assert count == 4 and largest > before[0]
    info = store.get("doc")
    assert info is not None and first is not None
    assert (info.id, info.n_chunks, info.metadata) == (first.id, 3, {"v": 2})
    assert info.updated_at >= first.updated_at and info.created_at == first.created_at
    doc_chunks = [c for c in store.chunks(sorted(store.chunk_ids())) if c.source == "doc"]
    assert [(c.position, c.text) for c in doc_chunks] == [(0, "n1"), (1, "n2"), (2, "n3")]
    np.testing.assert_array_equal(store.embeddings([c.id for c in doc_chunks]), new)


def test_remove_deletes_the_document_and_its_chunks(store: DocumentStore) -> None:
    store.upsert("a", pieces("x", "y"), unit_vectors(2, 1), {}, sha("a"))
    store.upsert("b", pieces("z"), unit_vectors(1, 2), {}, sha("b"))
    newest = store.revision()
    removed = store.remove("b")  # the newest chunk goes: the revision must still change
    assert removed is not None and removed.source == "b"
    assert store.remove("b") is None
    assert store.revision() != newest and [d.source for d in store.list()] == ["a"]
    store.upsert("b", pieces("z"), unit_vectors(1, 2), {}, sha("b"))
    assert store.revision()[0] > newest[0], "chunk ids are never reused"


def test_a_failing_write_leaves_the_stored_version_whole(store: DocumentStore) -> None:
    store.upsert("doc", pieces("a", "b"), unit_vectors(2, 1), {}, sha("v1"))
    before = (store.revision(), store.get("doc"))
    bad = unit_vectors(3, 2)
    bad[2] *= 3  # the last row is not normalised: found after the old chunks were deleted
    with pytest.raises(ValueError, match="chunk 2 is not L2-normalised"):
        store.upsert("doc", pieces("c", "d", "e"), bad, {}, sha("v2"))
    with pytest.raises(ValueError, match="chunk 1 is not L2-normalised"):
        half_bad = np.vstack([unit_vectors(1, 3), np.full((1, 384), 0.1, np.float32)])
        store.upsert("new", pieces("c", "d"), half_bad, {}, sha("n"))  # a new document
    with pytest.raises(ValueError, match="expected 2 embeddings of 384"):
        store.upsert("new", pieces("c", "d"), unit_vectors(3, 1), {}, sha("n"))
    with pytest.raises(ValueError, match="at least one chunk"):
        store.upsert("new", [], unit_vectors(0, 1), {}, sha("n"))
    assert (store.revision(), store.get("doc")) == before
    assert [d.source for d in store.list()] == ["doc"]
    assert [c.text for c in store.chunks(store.chunk_ids())] == ["a", "b"]


def test_many_ids_are_read_in_batches(store: DocumentStore) -> None:
    n = 2_000  # more than one IN (...) list
    texts = [f"chunk {i}" for i in range(n)]
    store.upsert("big", pieces(*texts), unit_vectors(n, 5), {}, sha("big"))
    ids = sorted(store.chunk_ids())
    assert [c.text for c in store.chunks(ids)] == texts
    assert store.embeddings(ids[::-1]).shape == (n, 384)


def test_migration_0005_downgrades_to_0004_and_back(engine: Engine) -> None:
    migrate(engine)
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
        connection.commit()
    assert not {"documents", "chunks"} & set(inspect(engine).get_table_names())
    assert migrate(engine) is True
    assert {"documents", "chunks"} <= set(inspect(engine).get_table_names())
