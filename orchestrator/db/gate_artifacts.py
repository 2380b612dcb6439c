"""GateArtifactStore: versions of fitted retrieval gates (`symoe gate fit`), one active per
gate. Callers hand in and get back orchestrator.retrieval.artifacts.GateArtifact; its
embeddings are stored as raw little-endian float32 bytes, the rest as JSON."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.db.retrieval_models import GateArtifactRow
from orchestrator.errors import InputError
from orchestrator.retrieval.artifacts import GateArtifact

_FLOAT32_LE = np.dtype("<f4")


class GateArtifactInfo(BaseModel):
    """A stored artifact without its examples, for listings."""

    gate: str
    version: int
    stored_at: datetime
    embedding_model: str
    dim: int
    n_examples: int
    k: int
    active: bool


class GateArtifactStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def save(self, artifact: GateArtifact, activate: bool = True) -> GateArtifact:
        """Store `artifact` as the next version of its gate (its own `version` is ignored)
        and return it with that version; with `activate` it becomes the gate's active one."""
        with self.sessions.begin() as session:
            latest = session.scalar(
                select(func.max(GateArtifactRow.version)).where(
                    GateArtifactRow.gate == artifact.gate
                )
            )
            stored = artifact.model_copy(update={"version": (latest or 0) + 1})
            if activate:
                _deactivate(session, stored.gate)
            session.add(
                GateArtifactRow(
                    gate=stored.gate,
                    version=stored.version,
                    embedding_model=stored.embedding_model,
                    dim=stored.dim,
                    n_examples=len(stored.labels),
                    body=stored.model_dump(mode="json", exclude={"embeddings"}),
                    embeddings=np.ascontiguousarray(stored.embeddings, _FLOAT32_LE).tobytes(),
                    active=activate,
                )
            )
        return stored

    def get(self, gate: str, version: int | None = None) -> GateArtifact:
        """One stored version (by default the newest); InputError when there is none."""
        with self.sessions() as session:
            return _artifact(_row(session, gate, version))

    def active(self, gate: str) -> GateArtifact | None:
        with self.sessions() as session:
            row = session.scalars(
                select(GateArtifactRow)
                .where(GateArtifactRow.gate == gate, GateArtifactRow.active)
                .order_by(GateArtifactRow.version.desc())
                .limit(1)
            ).first()
            return None if row is None else _artifact(row)

    def activate(self, gate: str, version: int | None = None) -> GateArtifact:
        """Make one stored version (by default the newest) the gate's active one."""
        with self.sessions.begin() as session:
            row = _row(session, gate, version)
            _deactivate(session, gate)
            row.active = True
            return _artifact(row)

    def list(self) -> list[GateArtifactInfo]:
        with self.sessions() as session:
            rows = session.scalars(
                select(GateArtifactRow).order_by(GateArtifactRow.gate, GateArtifactRow.version)
            )
            return [
                GateArtifactInfo(
                    gate=r.gate,
                    version=r.version,
                    stored_at=r.created_at,
                    embedding_model=r.embedding_model,
                    dim=r.dim,
                    n_examples=r.n_examples,
                    k=int(r.body["k"]),
                    active=r.active,
                )
                for r in rows
            ]


def _deactivate(session: Session, gate: str) -> None:
    session.execute(
        update(GateArtifactRow).where(GateArtifactRow.gate == gate).values(active=False)
    )


def _row(session: Session, gate: str, version: int | None) -> GateArtifactRow:
    query = select(GateArtifactRow).where(GateArtifactRow.gate == gate)
    if version is not None:
        query = query.where(GateArtifactRow.version == version)
    row = session.scalars(query.order_by(GateArtifactRow.version.desc()).limit(1)).first()
    if row is None:
        at = "" if version is None else f"@v{version}"
        raise InputError(f"no stored gate artifact {gate}{at}")
    return row


def _artifact(row: GateArtifactRow) -> GateArtifact:
    vectors = np.frombuffer(row.embeddings, dtype=_FLOAT32_LE).reshape(row.n_examples, row.dim)
    return GateArtifact.model_validate(
        {**row.body, "embeddings": vectors.astype(np.float32), "version": row.version}
    )
