"""/admin: log in with an admin API key, log out, the overview page, and the static files.
Each feature's pages are their own router (`pages_*.py`), included by `install_dashboard`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from orchestrator.api.dashboard.auth import (
    LOGIN_PATH,
    ActorDep,
    CodecDep,
    CsrfDep,
    SessionDep,
    ViewerDep,
    install_refusals,
    set_session,
)
from orchestrator.api.dashboard.pages_documents import router as documents_router
from orchestrator.api.dashboard.pages_evals import router as evals_router
from orchestrator.api.dashboard.pages_experts import router as experts_router
from orchestrator.api.dashboard.pages_jobs import router as jobs_router
from orchestrator.api.dashboard.pages_keys import router as keys_router
from orchestrator.api.dashboard.pages_playground import router as playground_router
from orchestrator.api.dashboard.pages_profiles import router as profiles_router
from orchestrator.api.dashboard.pages_queries import router as queries_router
from orchestrator.api.dashboard.pages_routing import router as routing_router
from orchestrator.api.dashboard.pages_workers import router as workers_router
from orchestrator.api.dashboard.session import COOKIE, new_session
from orchestrator.api.dashboard.templating import NAV, STATIC_DIR, render
from orchestrator.api.deps import KeysDep

router = APIRouter(prefix="/admin", include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path of the dashboard itself: never another site (an open redirect)."""
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return "/admin"


@router.get("/login")
def login_page(
    request: Request,
    session: SessionDep,
    codec: CodecDep,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    current = session or new_session()
    page = render(request, "login.html", current, next=_safe_next(next), error=None)
    set_session(page, codec, current)
    return page


@router.post("/login")
def login(
    request: Request,
    session: CsrfDep,
    codec: CodecDep,
    keys: KeysDep,
    key: Annotated[str, Form(max_length=512)] = "",
    next: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    info = keys.verify(key.strip()) if key.strip() else None
    if info is None or info.role != "admin":
        error = "unknown or revoked key" if info is None else "the dashboard needs an admin key"
        status = 401 if info is None else 403
        return render(request, "login.html", session, status, next=_safe_next(next), error=error)
    fresh = new_session(key_id=info.id)  # a new CSRF token with the new privilege
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session(response, codec, fresh)
    return response


@router.post("/logout")
def logout(who: ActorDep) -> Response:
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    response.delete_cookie(COOKIE, path="/admin")
    return response


@router.get("")
def overview(request: Request, who: ViewerDep, keys: KeysDep) -> Response:
    services = request.app.state.services
    registry = services.deployment.registry
    experts = registry.all()
    stored_keys = keys.list()
    cards = [
        (
            "Experts",
            f"{sum(e.enabled for e in experts)} enabled of {len(experts)}",
            "/admin/experts",
        ),
        ("Keys", f"{sum(k.revoked_at is None for k in stored_keys)} active", "/admin/keys"),
    ]
    profile = services.deployment.profile
    said = {
        "/admin/profiles": f"active: {profile.label}" if profile else "no active profile set",
        **PAGE_SUMMARIES,
    }
    cards += [(label, said[href], href) for href, label in NAV[3:] if href in said]
    return render(request, "overview.html", who, cards=cards, pages=NAV[1:])


# what the overview says of pages whose numbers would cost a count over big tables
PAGE_SUMMARIES = {
    "/admin/playground": "a question's plan before it runs, then its trace",
    "/admin/evals": "the runs of symoe eval run, their metrics and plots",
    "/admin/queries": "stored queries: search, and each one's trace",
    "/admin/jobs": "batch jobs: progress, live events, cancel",
    "/admin/routing": "who is drawn, per skill; aggregators; failures; loads",
    "/admin/workers": "the model pool, and Celery workers and queues",
    "/admin/documents": "the document store: documents, chunks, upload",
}


def install_dashboard(app: FastAPI) -> None:
    """Mount the dashboard on the app: its routers, static files and refusal handler."""
    install_refusals(app)
    app.mount("/admin/static", StaticFiles(directory=STATIC_DIR), name="dashboard-static")
    for page_router in (
        router, experts_router, keys_router, profiles_router, playground_router, evals_router,
        queries_router, jobs_router, routing_router, workers_router, documents_router,
    ):  # fmt: skip
        app.include_router(page_router)
