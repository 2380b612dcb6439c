"""Who may use the dashboard: a session whose key is an admin key, still active. Every page
and action declares `AdminPageDep`; every state-changing one also declares `CsrfDep`.

A refusal is a `DashboardRefused`: its handler (`install_dashboard`) sends an anonymous (or
expired) visitor's page request to the login page and answers anything else with the status
and a short page saying why — never a stack trace."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from orchestrator.api.dashboard.session import (
    COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    DashboardSession,
    SessionCodec,
)
from orchestrator.api.deps import KeysDep, from_state
from orchestrator.db.keys import ApiKeyInfo

LOGIN_PATH = "/admin/login"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CodecDep = Annotated[SessionCodec, Depends(from_state("dashboard_sessions"))]


class DashboardRefused(Exception):
    def __init__(self, status: int, message: str, login: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.login = login  # a page request that should go to the login page


async def read_session(request: Request, codec: CodecDep) -> DashboardSession | None:
    """The request's session, or None (no cookie, forged, expired)."""
    return codec.loads(request.cookies.get(COOKIE))


SessionDep = Annotated[DashboardSession | None, Depends(read_session)]


async def dashboard_admin(session: SessionDep, keys: KeysDep) -> ApiKeyInfo:
    if session is None or session.key_id is None:
        raise DashboardRefused(401, "log in with an admin API key", login=True)
    info = keys.get(session.key_id)
    if info is None or info.revoked_at is not None:
        raise DashboardRefused(401, "the key of this session was revoked: log in again", True)
    if info.role != "admin":
        raise DashboardRefused(403, "the dashboard needs an admin key")
    return info


AdminPageDep = Annotated[ApiKeyInfo, Depends(dashboard_admin)]


async def csrf_checked(request: Request, session: SessionDep) -> DashboardSession:
    """A state-changing request carries the session's CSRF token, in the form field
    `csrf_token` or the header `X-CSRF-Token` (SameSite=Strict is the first wall, this the
    second)."""
    if session is None:
        raise DashboardRefused(403, "no session: reload the page and try again")
    if request.method in SAFE_METHODS:
        return session
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # cached on the request: the route reads it again
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, session.csrf):
        raise DashboardRefused(403, "missing or wrong CSRF token: reload the page and try again")
    return session


CsrfDep = Annotated[DashboardSession, Depends(csrf_checked)]


@dataclass(frozen=True)
class Viewer:
    """The logged-in admin and its session (for the CSRF token pages embed)."""

    admin: ApiKeyInfo
    session: DashboardSession


async def viewer(admin: AdminPageDep, session: SessionDep) -> Viewer:
    assert session is not None  # dashboard_admin refused a request without one
    return Viewer(admin, session)


async def actor(viewer: Annotated[Viewer, Depends(viewer)], _: CsrfDep) -> Viewer:
    return viewer


# every page: ViewerDep; every state-changing action: ActorDep (admin + CSRF checked)
ViewerDep = Annotated[Viewer, Depends(viewer)]
ActorDep = Annotated[Viewer, Depends(actor)]


def set_session(response: Response, codec: SessionCodec, session: DashboardSession) -> None:
    response.set_cookie(
        COOKIE,
        codec.dumps(session),
        max_age=codec.max_age_s,
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=False,  # served over plain HTTP on localhost by default; TLS is the proxy's
    )


def refusal_page(status: int, message: str) -> HTMLResponse:
    body = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>symoe admin</title>"
        '<link rel=stylesheet href="/admin/static/dashboard.css"></head><body class=refused>'
        f"<main><h1>{status}</h1><p>{_escape(message)}</p>"
        f'<p><a href="{LOGIN_PATH}">Log in</a></p></main></body></html>'
    )
    return HTMLResponse(body, status_code=status)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def install_refusals(app: FastAPI) -> None:
    @app.exception_handler(DashboardRefused)
    async def _refused(request: Request, exc: DashboardRefused) -> Response:
        if exc.login and request.method in SAFE_METHODS:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{LOGIN_PATH}?next={quote(target)}", status_code=303)
        return refusal_page(exc.status, exc.message)
