"""ProfileSetStore: versions of profile sets, one of them active (the one recruitment uses
unless a file is configured). Callers hand in and get back skills.profiles.ProfileSet."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.db.models import ProfileSetRow
from orchestrator.errors import InputError
from skills.profiles import ProfileSet


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


class ProfileSetStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def save_profile_set(self, ps: ProfileSet, activate: bool = False) -> ProfileSet:
        """Store `ps` as a new version of its name (max stored version + 1, so ps.version is
        ignored) and return it with that version. With `activate`, it becomes the one active
        set. Two builds of one name saved at the same instant: the second raises
        IntegrityError (unique name and version) and can simply be retried."""
        with self.sessions.begin() as session:
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
        with self.sessions.begin() as session:
            row = _profile_row(session, name, version)
            session.execute(update(ProfileSetRow).values(active=False))
            row.active = True
            return ProfileSet.model_validate(row.body)

    def get_profile_set(self, name: str, version: int | None = None) -> ProfileSet:
        with self.sessions() as session:
            return ProfileSet.model_validate(_profile_row(session, name, version).body)

    def active_profile_set(self) -> ProfileSet | None:
        with self.sessions() as session:
            body = session.scalar(
                select(ProfileSetRow.body)
                .where(ProfileSetRow.active)
                .order_by(ProfileSetRow.id.desc())
                .limit(1)
            )
            return None if body is None else ProfileSet.model_validate(body)

    def active_id(self) -> int | None:
        """The row id of the set `active_profile_set` reads (None: none is active), so an API
        process notices another one's activation without reading the body."""
        with self.sessions() as session:
            return session.scalar(
                select(ProfileSetRow.id)
                .where(ProfileSetRow.active)
                .order_by(ProfileSetRow.id.desc())
                .limit(1)
            )

    def list_profile_sets(self) -> list[ProfileSetInfo]:
        with self.sessions() as session:
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


def _profile_row(session: Session, name: str, version: int | None) -> ProfileSetRow:
    query = select(ProfileSetRow).where(ProfileSetRow.name == name)
    if version is not None:
        query = query.where(ProfileSetRow.version == version)
    row = session.scalars(query.order_by(ProfileSetRow.version.desc()).limit(1)).first()
    if row is None:
        at = "" if version is None else f"@v{version}"
        raise InputError(f"no stored profile set {name}{at}")
    return row
