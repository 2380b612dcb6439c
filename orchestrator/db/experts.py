"""ExpertStore: the experts as stored (experts.yaml synced in at start-up, plus those created
through the API), each with the database's `enabled` flag. Callers hand in and get back
orchestrator.experts.Expert."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.db.models import ExpertRow
from orchestrator.errors import SymoeError, UnknownExpertError
from orchestrator.experts import Expert

# Experts created through the API carry this key in their stored config (it is no Expert
# field): the API server loads them again at start-up whatever experts.yaml declares. When
# experts.yaml declares the same name, sync_experts overwrites the config and the key with it.
API_CREATED = "_created_through_api"


class DuplicateExpertError(SymoeError):
    """An expert of that name is already stored."""


class ExpertStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def sync_experts(self, experts: Sequence[Expert]) -> None:
        """Upsert the experts declared in experts.yaml.

        A new expert is inserted as declared, `enabled` included. For a known one the YAML
        wins on everything but `enabled`: that flag is the database's from then on, so a
        switch made in the dashboard survives restarts. Experts missing from the YAML are
        left alone, since stored traces name them.
        """
        with self.sessions.begin() as session:
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
        with self.sessions.begin() as session:
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
        with self.sessions() as session:
            rows = session.scalars(select(ExpertRow).order_by(ExpertRow.name))
            return [
                ({**_sans_marker(r.config), "enabled": r.enabled}, bool(r.config.get(API_CREATED)))
                for r in rows
            ]

    def change_marks(self) -> tuple[tuple[str, datetime], ...]:
        """Each stored expert's name and last change (`updated_at`), by name: one small query
        that tells an API process another one added, changed or switched an expert. Every
        row's mark, not a count and a maximum, so a change committed after a later-stamped
        one is noticed too."""
        with self.sessions() as session:
            rows = session.execute(
                select(ExpertRow.name, ExpertRow.updated_at).order_by(ExpertRow.name)
            )
            return tuple((name, updated_at) for name, updated_at in rows)

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
            with self.sessions.begin() as session:
                if session.get(ExpertRow, expert.name) is not None:
                    raise DuplicateExpertError(f"expert {expert.name!r} already exists")
                session.add(row)
        except IntegrityError:  # two creates racing
            raise DuplicateExpertError(f"expert {expert.name!r} already exists") from None

    def update_expert(self, expert: Expert) -> None:
        """Replace a stored expert's config and `enabled` flag (it keeps its origin)."""
        with self.sessions.begin() as session:
            row = session.get(ExpertRow, expert.name)
            if row is None:
                raise UnknownExpertError(f"unknown expert {expert.name!r}")
            config = expert.model_dump(mode="json")
            if row.config.get(API_CREATED):
                config[API_CREATED] = True
            row.backend, row.model, row.config = expert.backend, expert.model, config
            row.enabled = expert.enabled


def _sans_enabled(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != "enabled"}


def _sans_marker(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != API_CREATED}
