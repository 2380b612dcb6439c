"""TraceStore: saves and reads back batches of traces, profile sets, experts and eval runs.

Callers hand in and get back the pydantic objects (Trace, BatchReport, ProfileSet, Expert);
rows never leave orchestrator.db. Every write is one transaction: it lands whole or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, field_validator
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload, sessionmaker

from orchestrator.db.convert import batch_row, trace_from_row
from orchestrator.db.eval_store import EvalRunStore
from orchestrator.db.models import (
    BatchRow,
    ExpertRow,
    ModelCallRow,
    ModelLoadRow,
    PlanRow,
    ProfileSetRow,
    QueryRow,
)
from orchestrator.errors import InputError, SymoeError, UnknownExpertError
from orchestrator.experts import Expert
from orchestrator.trace import BatchReport, ModelLoad, StageTiming, Trace
from skills.profiles import ProfileSet

# What a Trace needs besides its query row; loaded in a few queries, not one per call.
_TRACE_PARTS = (
    joinedload(QueryRow.plan),
    joinedload(QueryRow.final),
    joinedload(QueryRow.batch),
    selectinload(QueryRow.calls),
)


class DuplicateBatchError(SymoeError):
    """The batch, or one of its query ids, is already stored; nothing of it was written."""


class DuplicateExpertError(SymoeError):
    """An expert of that name is already stored."""


# Experts created through the API carry this key in their stored config (it is no Expert
# field): the API server loads them again at start-up whatever experts.yaml declares. When
# experts.yaml declares the same name, sync_experts overwrites the config and the key with it.
API_CREATED = "_created_through_api"


class PlanDigest(BaseModel):
    """What recruitment statistics need of one stored query."""

    skills: list[str]
    drawn: list[str]
    aggregator: str | None
    weights: dict[str, float]
    notes: list[str]
    answered: list[tuple[int, str]]  # (slot, expert) of each expert call that answered


class ProfileSetInfo(BaseModel):
    """A stored profile set without its (large) body, for listings."""

    name: str
    version: int
    stored_at: datetime
    benchmark: str
    split: str
    tagger: str
    command: str
    active: bool

    @field_validator("stored_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        # SQLite hands back naive datetimes; every time the store writes is UTC.
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class TraceStore(EvalRunStore):
    """Traces, profile sets and experts; eval runs through EvalRunStore's methods."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self._sessions

    # -- traces ---------------------------------------------------------------------------

    def save_batch(self, report: BatchReport) -> None:
        """Store a batch with all its traces and loads in one transaction.

        Saving is not idempotent on purpose: a batch id or query id that is already stored
        raises DuplicateBatchError and leaves the database as it was, so a retried save can
        never double a batch's tokens or loads. Trace.stages and Trace.batch_id are stored
        once, on the batch; a trace that carries different values raises ValueError.
        """
        batch = batch_row(report)
        try:
            with self._sessions.begin() as session:
                if session.get(BatchRow, report.batch_id) is not None:
                    raise DuplicateBatchError(f"batch {report.batch_id!r} is already stored")
                session.add(batch)
        except IntegrityError as exc:  # a query id stored before, or two saves racing
            reason = str(exc.orig).splitlines()[0]
            raise DuplicateBatchError(
                f"batch {report.batch_id!r} conflicts with stored data: {reason}"
            ) from exc

    def get_trace(self, query_id: str) -> Trace | None:
        with self._sessions() as session:
            row = session.scalars(
                select(QueryRow).where(QueryRow.id == query_id).options(*_TRACE_PARTS)
            ).one_or_none()
            return None if row is None else trace_from_row(row)

    def recent(self, limit: int = 20) -> list[Trace]:
        """The newest traces first; queries of one batch in batch order."""
        with self._sessions() as session:
            rows = session.scalars(
                select(QueryRow)
                .options(*_TRACE_PARTS)
                .order_by(QueryRow.created_at.desc(), QueryRow.batch_id, QueryRow.position)
                .limit(limit)
            ).unique()
            return [trace_from_row(row) for row in rows]

    def get_batch(self, batch_id: str) -> BatchReport | None:
        with self._sessions() as session:
            batch = session.get(BatchRow, batch_id)
            if batch is None:
                return None
            queries = session.scalars(
                select(QueryRow)
                .where(QueryRow.batch_id == batch_id)
                .options(*_TRACE_PARTS)
                .order_by(QueryRow.position)
            ).unique()
            return BatchReport(
                batch_id=batch.id,
                traces=[trace_from_row(row) for row in queries],
                stages=[StageTiming.model_validate(s) for s in batch.stages],
                loads=[ModelLoad.model_validate(r, from_attributes=True) for r in batch.loads],
                seconds=batch.seconds,
            )

    def loads(self, batch_id: str) -> list[ModelLoad]:
        with self._sessions() as session:
            rows = session.scalars(
                select(ModelLoadRow)
                .where(ModelLoadRow.batch_id == batch_id)
                .order_by(ModelLoadRow.position)
            )
            return [ModelLoad.model_validate(r, from_attributes=True) for r in rows]

    # -- profile sets ---------------------------------------------------------------------

    def save_profile_set(self, ps: ProfileSet, activate: bool = False) -> ProfileSet:
        """Store `ps` as a new version of its name (max stored version + 1, so ps.version is
        ignored) and return it with that version. With `activate`, it becomes the one active
        set. Two builds of one name saved at the same instant: the second raises
        IntegrityError (unique name and version) and can simply be retried."""
        with self._sessions.begin() as session:
            latest = session.scalar(
                select(func.max(ProfileSetRow.version)).where(ProfileSetRow.name == ps.name)
            )
            stored = ps.model_copy(update={"version": (latest or 0) + 1})
            if activate:
                session.execute(update(ProfileSetRow).values(active=False))
            session.add(
                ProfileSetRow(
                    name=stored.name,
                    version=stored.version,
                    benchmark=stored.benchmark,
                    split=stored.split,
                    tagger=stored.tagger,
                    command=stored.command,
                    body=stored.model_dump(mode="json"),
                    active=activate,
                )
            )
        return stored

    def activate_profile_set(self, name: str, version: int | None = None) -> ProfileSet:
        """Make one stored set (by default the newest of `name`) the active one."""
        with self._sessions.begin() as session:
            row = _profile_row(session, name, version)
            session.execute(update(ProfileSetRow).values(active=False))
            row.active = True
            return ProfileSet.model_validate(row.body)

    def get_profile_set(self, name: str, version: int | None = None) -> ProfileSet:
        with self._sessions() as session:
            return ProfileSet.model_validate(_profile_row(session, name, version).body)

    def active_profile_set(self) -> ProfileSet | None:
        with self._sessions() as session:
            body = session.scalar(
                select(ProfileSetRow.body)
                .where(ProfileSetRow.active)
                .order_by(ProfileSetRow.id.desc())
                .limit(1)
            )
            return None if body is None else ProfileSet.model_validate(body)

    def list_profile_sets(self) -> list[ProfileSetInfo]:
        with self._sessions() as session:
            rows = session.execute(
                select(
                    ProfileSetRow.name,
                    ProfileSetRow.version,
                    ProfileSetRow.created_at.label("stored_at"),
                    ProfileSetRow.benchmark,
                    ProfileSetRow.split,
                    ProfileSetRow.tagger,
                    ProfileSetRow.command,
                    ProfileSetRow.active,
                ).order_by(ProfileSetRow.name, ProfileSetRow.version)
            )
            return [ProfileSetInfo.model_validate(r._asdict()) for r in rows]

    # -- experts --------------------------------------------------------------------------

    def sync_experts(self, experts: Sequence[Expert]) -> None:
        """Upsert the experts declared in experts.yaml.

        A new expert is inserted as declared, `enabled` included. For a known one the YAML
        wins on everything but `enabled`: that flag is the database's from then on, so a
        switch made in the dashboard survives restarts. Experts missing from the YAML are
        left alone, since stored traces name them.
        """
        with self._sessions.begin() as session:
            rows = {row.name: row for row in session.scalars(select(ExpertRow))}
            for expert in experts:
                config = expert.model_dump(mode="json")
                row = rows.get(expert.name)
                if row is None:
                    session.add(
                        ExpertRow(
                            name=expert.name,
                            backend=expert.backend,
                            model=expert.model,
                            config=config,
                            enabled=expert.enabled,
                        )
                    )
                elif _sans_enabled(row.config) != _sans_enabled(config):
                    row.backend, row.model, row.config = expert.backend, expert.model, config

    def set_expert_enabled(self, name: str, enabled: bool) -> None:
        with self._sessions.begin() as session:
            row = session.get(ExpertRow, name)
            if row is None:
                raise UnknownExpertError(f"unknown expert {name!r}")
            row.enabled = enabled

    def list_experts(self) -> list[Expert]:
        """The stored experts by name, each with the database's `enabled` flag."""
        return [Expert.model_validate(config) for config, _ in self.stored_experts()]

    def stored_experts(self) -> list[tuple[dict[str, Any], bool]]:
        """Each stored expert's config (with the database's `enabled`), not yet validated,
        and whether it was created through the API."""
        with self._sessions() as session:
            rows = session.scalars(select(ExpertRow).order_by(ExpertRow.name))
            return [
                ({**_sans_marker(r.config), "enabled": r.enabled}, bool(r.config.get(API_CREATED)))
                for r in rows
            ]

    def add_expert(self, expert: Expert) -> None:
        """Store an expert created through the API; DuplicateExpertError if the name is
        taken (by any stored expert, also one that experts.yaml no longer declares)."""
        config = {**expert.model_dump(mode="json"), API_CREATED: True}
        row = ExpertRow(
            name=expert.name,
            backend=expert.backend,
            model=expert.model,
            config=config,
            enabled=expert.enabled,
        )
        try:
            with self._sessions.begin() as session:
                if session.get(ExpertRow, expert.name) is not None:
                    raise DuplicateExpertError(f"expert {expert.name!r} already exists")
                session.add(row)
        except IntegrityError:  # two creates racing
            raise DuplicateExpertError(f"expert {expert.name!r} already exists") from None

    def update_expert(self, expert: Expert) -> None:
        """Replace a stored expert's config and `enabled` flag (it keeps its origin)."""
        with self._sessions.begin() as session:
            row = session.get(ExpertRow, expert.name)
            if row is None:
                raise UnknownExpertError(f"unknown expert {expert.name!r}")
            config = expert.model_dump(mode="json")
            if row.config.get(API_CREATED):
                config[API_CREATED] = True
            row.backend, row.model, row.config = expert.backend, expert.model, config
            row.enabled = expert.enabled

    # -- recruitment statistics -----------------------------------------------------------

    def plan_digests(self, since: datetime | None = None, limit: int = 10_000) -> list[PlanDigest]:
        """The newest `limit` stored queries (created at or after `since`, in UTC) as the
        parts of their plans and calls that recruitment statistics count."""
        newest = select(QueryRow.id).order_by(QueryRow.created_at.desc()).limit(limit)
        if since is not None:
            newest = newest.where(QueryRow.created_at >= since)
        ids = newest.subquery()
        with self._sessions() as session:
            answered: dict[str, list[tuple[int, str]]] = {}
            calls = session.execute(
                select(ModelCallRow.query_id, ModelCallRow.slot, ModelCallRow.expert).where(
                    ModelCallRow.stage == "experts", ModelCallRow.query_id.in_(select(ids.c.id))
                )
            )
            for query_id, slot, expert in calls:
                answered.setdefault(query_id, []).append((slot, expert))
            plans = session.execute(
                select(
                    PlanRow.query_id,
                    PlanRow.skills,
                    PlanRow.drawn,
                    PlanRow.aggregator,
                    PlanRow.recruitment["weights"],
                    PlanRow.recruitment["notes"],
                ).where(PlanRow.query_id.in_(select(ids.c.id)))
            )
            return [
                PlanDigest(
                    skills=skills,
                    drawn=drawn,
                    aggregator=aggregator,
                    weights=weights or {},
                    notes=notes or [],
                    answered=answered.get(query_id, []),
                )
                for query_id, skills, drawn, aggregator, weights, notes in plans
            ]


def _sans_enabled(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != "enabled"}


def _sans_marker(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != API_CREATED}


def _profile_row(session: Session, name: str, version: int | None) -> ProfileSetRow:
    query = select(ProfileSetRow).where(ProfileSetRow.name == name)
    if version is not None:
        query = query.where(ProfileSetRow.version == version)
    row = session.scalars(query.order_by(ProfileSetRow.version.desc()).limit(1)).first()
    if row is None:
        at = "" if version is None else f"@v{version}"
        raise InputError(f"no stored profile set {name}{at}")
    return row
