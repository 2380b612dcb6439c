"""API keys: `sk-symoe-<id>-<secret>`; the database keeps only the SHA-256 of the whole key,
so a leaked database does not leak keys. Roles: `user` and `admin`."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.db.models import ApiKeyRow
from orchestrator.errors import InputError

Role = Literal["user", "admin"]
ROLES: tuple[Role, ...] = ("user", "admin")
PREFIX = "sk-symoe-"


class ApiKeyInfo(BaseModel):
    id: str
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None = None

    @field_validator("created_at", "revoked_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # SQLite hands back naive datetimes; every time the store writes is UTC.
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


class CreatedKey(ApiKeyInfo):
    key: str  # shown once


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _info(row: ApiKeyRow) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row.id,
        name=row.name,
        role=row.role,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class KeyStore:
    """Create, verify, list and revoke keys. Verification is cached for `cache_s` seconds
    (the API's hot path); revoking through this store clears the cache at once."""

    def __init__(self, sessions: sessionmaker[Session], cache_s: float = 5.0) -> None:
        self.sessions = sessions
        self.cache_s = cache_s
        self._cache: dict[str, tuple[float, ApiKeyInfo | None]] = {}
        self._lock = threading.Lock()

    def create(self, name: str, role: str) -> CreatedKey:
        if role not in ROLES:
            raise InputError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
        if not name.strip():
            raise InputError("a key needs a name")
        key_id = secrets.token_hex(6)
        key = f"{PREFIX}{key_id}-{secrets.token_urlsafe(24)}"
        row = ApiKeyRow(id=key_id, name=name.strip(), role=role, key_hash=hash_key(key))
        with self.sessions.begin() as session:
            session.add(row)
            session.flush()
            info = _info(row)
        return CreatedKey(**info.model_dump(), key=key)

    def verify(self, key: str) -> ApiKeyInfo | None:
        """The key's info if it exists and is not revoked, else None."""
        digest = hash_key(key)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
            if hit is not None and now - hit[0] < self.cache_s:
                return hit[1]
        with self.sessions() as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == digest))
            info = _info(row) if row is not None and row.revoked_at is None else None
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now, info)
        return info

    def list(self) -> list[ApiKeyInfo]:
        with self.sessions() as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))
            return [_info(r) for r in rows]

    def revoke(self, key_id: str) -> ApiKeyInfo:
        with self.sessions.begin() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                raise LookupError(f"no API key with id {key_id!r}")
            if row.revoked_at is None:
                row.revoked_at = datetime.now(UTC)
            info = _info(row)
        with self._lock:
            self._cache.clear()
        return info
