"""The dashboard's session: a signed cookie (HttpOnly, SameSite=Strict, Path=/admin) holding
the CSRF token and, once an admin key has logged in, that key's id — never the key itself.
Every request checks the key again (revoked or demoted: the session ends), so the cookie
grants nothing the key no longer has.

The signing secret lives in `<data_dir>/dashboard.secret` (created once, mode 0600), so a
restarted server keeps its sessions; deleting the file logs everyone out."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import BaseModel, ValidationError

COOKIE = "symoe_admin"
CSRF_FIELD = "csrf_token"  # the form field every state-changing form carries
CSRF_HEADER = "x-csrf-token"  # the same, for requests made from the page's JavaScript


class DashboardSession(BaseModel):
    csrf: str
    key_id: str | None = None  # the admin key logged in; None before login


def new_session(key_id: str | None = None) -> DashboardSession:
    return DashboardSession(csrf=secrets.token_urlsafe(32), key_id=key_id)


class SessionCodec:
    """Signs sessions into cookie values and reads them back; a value that is forged,
    tampered with or older than `max_age_s` reads as no session."""

    def __init__(self, secret: str, max_age_s: int) -> None:
        self.max_age_s = max_age_s
        self._serializer = URLSafeTimedSerializer(secret, salt="symoe-dashboard")

    def dumps(self, session: DashboardSession) -> str:
        return str(self._serializer.dumps(session.model_dump()))

    def loads(self, value: str | None) -> DashboardSession | None:
        if not value:
            return None
        try:
            raw = self._serializer.loads(value, max_age=self.max_age_s)
            return DashboardSession.model_validate(raw)
        except (BadSignature, ValidationError, TypeError):
            return None


def load_secret(data_dir: Path) -> str:
    """The server's signing secret, made on first use."""
    path = data_dir / "dashboard.secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another server process made it first
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
