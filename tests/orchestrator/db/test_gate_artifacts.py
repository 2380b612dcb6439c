"""GateArtifactStore, on SQLite and (marked postgres) on PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest
from alembic import command
from sqlalchemy import Engine, inspect

from orchestrator.db import GateArtifactStore, Stores, migrate
from orchestrator.db.engine import alembic_config
from orchestrator.errors import InputError
from orchestrator.retrieval.artifacts import GateArtifact, Judgement, LabelledSplit


@pytest.fixture
def store(stores: Stores) -> GateArtifactStore:
    return stores.gate_artifacts


def artifact(gate: str = "skr_knn", k: int = 3, n: int = 4) -> GateArtifact:
    rng = np.random.default_rng(n)
    vectors = rng.normal(size=(n, 384)).astype(np.float32)
    labels: list[Judgement] = ["same", "ir_better", "ir_worse", "same"][:n]
    return GateArtifact(
        gate=gate,
        created_at="2026-01-02T03:04:05+00:00",
        k=k,
        k_scores={1: 0.5, 3: 0.625},
        embeddings=vectors / np.linalg.norm(vectors, axis=1, keepdims=True),
        labels=labels,
        questions=[f"question {i}?" for i in range(n)],
        split=LabelledSplit(
            source="skr_training.json",
            sha256="ab" * 32,
            seed=0,
            test_fraction=0.5,
            train=list(range(n)),
            test=[n, n + 1],
        ),
        command="symoe gate fit --gate skr_knn",
    )


def same(a: GateArtifact, b: GateArtifact) -> bool:
    """Equal fields, and the float32 vectors bit for bit."""
    fields = {"embeddings", "version"}
    return (
        a.model_dump(exclude=fields) == b.model_dump(exclude=fields)
        and b.embeddings.dtype == np.float32
        and np.array_equal(a.embeddings, b.embeddings)
    )


def test_versions_round_trip_and_one_active_per_gate(store: GateArtifactStore) -> None:
    assert store.active("skr_knn") is None and store.list() == []
    v1 = store.save(artifact(k=3))
    v2 = store.save(artifact(k=5), activate=False)
    other = store.save(artifact("expert_rag", k=1, n=2))
    assert (v1.version, v2.version, other.version) == (1, 2, 1)
    active = store.active("skr_knn")
    assert active is not None and active.version == 1 and same(active, artifact(k=3))
    assert same(store.get("skr_knn"), artifact(k=5)) and store.get("skr_knn").version == 2
    assert store.get("skr_knn", 1).k == 3
    assert store.active("expert_rag") is not None  # each gate keeps its own active version

    assert store.activate("skr_knn").version == 2
    active = store.active("skr_knn")
    assert active is not None and active.version == 2
    listing = store.list()
    assert all(info.stored_at.tzinfo is not None for info in listing)
    assert [(i.gate, i.version, i.k, i.n_examples, i.active) for i in listing] == [
        ("expert_rag", 1, 1, 2, True),
        ("skr_knn", 1, 3, 4, False),
        ("skr_knn", 2, 5, 4, True),
    ]
    with pytest.raises(InputError, match="no stored gate artifact skr_knn@v9"):
        store.get("skr_knn", 9)
    with pytest.raises(InputError, match="no stored gate artifact missing"):
        store.activate("missing")


def test_migration_0006_downgrades_to_0005_and_back(engine: Engine) -> None:
    migrate(engine)
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
        connection.commit()
    tables = set(inspect(engine).get_table_names())
    assert "gate_artifacts" not in tables and "chunks" in tables
    assert migrate(engine) is True
    assert "gate_artifacts" in set(inspect(engine).get_table_names())
