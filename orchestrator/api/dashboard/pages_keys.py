"""/admin/keys: the API keys with their rate-limit use this minute; create one (its secret
shown once, on the page the creation answers with) and revoke one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from orchestrator.api.admin.schemas import KeyCreate
from orchestrator.api.admin.service import AdminService
from orchestrator.api.auth.ratelimit import RateLimiter
from orchestrator.api.dashboard.auth import ActorDep, Viewer, ViewerDep
from orchestrator.api.dashboard.form_errors import error_line
from orchestrator.api.dashboard.templating import render
from orchestrator.api.errors import ApiError

router = APIRouter(prefix="/admin/keys", include_in_schema=False)


def _keys_page(request: Request, who: Viewer, status: int = 200, **extra: Any) -> Response:
    admin: AdminService = request.app.state.admin
    limiter: RateLimiter = request.app.state.limiter
    keys = admin.list_keys()
    used = {k.id: round(limiter.used(k.id)) for k in keys}
    return render(
        request,
        "keys.html",
        who,
        status,
        keys=keys,
        used=used,
        per_minute=limiter.per_minute,
        done=request.query_params.get("done"),
        **extra,
    )


@router.get("")
def keys_page(request: Request, who: ViewerDep) -> Response:
    return _keys_page(request, who)


@router.post("")
def create_key(
    request: Request,
    who: ActorDep,
    name: Annotated[str, Form(max_length=256)] = "",
    role: Annotated[str, Form(max_length=16)] = "user",
) -> Response:
    try:
        body = KeyCreate.model_validate({"name": name.strip(), "role": role})
    except ValidationError as exc:
        return _keys_page(request, who, 400, error=error_line(exc))
    created = request.app.state.admin.create_key(body.name, body.role)
    return _keys_page(request, who, 201, created=created)


@router.post("/{key_id}/revoke")
def revoke_key(request: Request, who: ActorDep, key_id: str) -> Response:
    admin: AdminService = request.app.state.admin
    try:
        revoked = admin.revoke_key(key_id)
    except ApiError as exc:  # an unknown id, told on the page
        return _keys_page(request, who, exc.status, error=exc.message)
    return RedirectResponse(f"/admin/keys?done=revoked+{revoked.name}", status_code=303)
