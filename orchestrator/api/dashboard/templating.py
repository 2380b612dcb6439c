"""Rendering dashboard pages: Jinja2 templates from this package (autoescaped), the
navigation, and the values every page's layout reads (the logged-in key, the CSRF token)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from orchestrator.api.dashboard.auth import Viewer
from orchestrator.api.dashboard.session import CSRF_FIELD, DashboardSession

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")

# (path, label) of the pages in the navigation, in order
NAV: list[tuple[str, str]] = [
    ("/admin", "Overview"),
    ("/admin/experts", "Experts"),
    ("/admin/keys", "Keys"),
    ("/admin/profiles", "Profiles"),
    ("/admin/playground", "Playground"),
    ("/admin/evals", "Evaluation runs"),
    ("/admin/queries", "Queries"),
    ("/admin/jobs", "Jobs"),
    ("/admin/routing", "Routing"),
    ("/admin/workers", "Workers"),
    ("/admin/documents", "Documents"),
]


def render(
    request: Request,
    template: str,
    who: Viewer | DashboardSession,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """A page; `who` is the logged-in viewer, or before login the anonymous session."""
    return templates.TemplateResponse(
        request,
        template,
        {
            "nav": NAV,
            "path": request.url.path,
            "admin": who.admin if isinstance(who, Viewer) else None,
            "csrf_field": CSRF_FIELD,
            "csrf": who.session.csrf if isinstance(who, Viewer) else who.csrf,
            **context,
        },
        status_code=status_code,
    )
