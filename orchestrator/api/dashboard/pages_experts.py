"""/admin/experts: the registry with each expert's recent draws and model loads; create,
edit, enable and disable, through the same AdminService (and so the same validation and
errors) as /v1/admin/experts. A change takes effect for the next plans."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from orchestrator.api.admin.schemas import ExpertUpdate, RecruitmentStats
from orchestrator.api.admin.service import AdminService
from orchestrator.api.dashboard.auth import ActorDep, Viewer, ViewerDep
from orchestrator.api.dashboard.form_errors import error_line
from orchestrator.api.dashboard.routing_view import loads_per_expert
from orchestrator.api.dashboard.snapshots import Snapshots
from orchestrator.api.dashboard.templating import render
from orchestrator.api.errors import ApiError
from orchestrator.db.query_log import QueryLog
from orchestrator.errors import UnknownExpertError
from orchestrator.experts import Expert

router = APIRouter(prefix="/admin/experts", include_in_schema=False)
STATS_LIMIT = 2000  # the most recent stored queries the draw counts cover
STATS_TTL_S = 30.0  # the draw counts are counted at most this often per app


@dataclass(frozen=True)
class ExpertCounts:
    stats: RecruitmentStats
    loads: Counter[str]  # model loads per expert in the batches of the counted queries


def _stats(request: Request) -> Snapshots[ExpertCounts]:
    """The app's snapshots of the draw and load counts (kept on app.state: one per app)."""
    state = request.app.state
    if not hasattr(state, "dashboard_expert_stats"):
        state.dashboard_expert_stats = Snapshots[ExpertCounts](ttl_s=STATS_TTL_S)
    return state.dashboard_expert_stats  # type: ignore[no-any-return]


def _count(request: Request) -> ExpertCounts:
    stats = _admin(request).recruitment_stats(None, STATS_LIMIT)
    # the batches holding the counted queries: each batch has at least one query, so the
    # newest STATS_LIMIT batches cover them
    log = QueryLog(request.app.state.services.deployment.stores.sessions)
    return ExpertCounts(stats, loads_per_expert(log.batch_loads(STATS_LIMIT), stats.queries))


MAX_FORM = 20_000


def _admin(request: Request) -> AdminService:
    return request.app.state.admin  # type: ignore[no-any-return]


def _parsed(text: str) -> dict[str, Any]:
    """A YAML (or JSON) mapping from a form's text area."""
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise ApiError(400, f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "give the fields as a mapping, e.g. `model: my/model`")
    return data


def _problem(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, ApiError):
        return exc.status, exc.message
    if isinstance(exc, ValidationError):
        return 400, error_line(exc, "the expert")
    return 404, str(exc)


def _list_page(request: Request, who: Viewer, status: int = 200, **extra: Any) -> Response:
    admin = _admin(request)
    counted = _stats(request).get("experts", lambda: _count(request))
    stats = {s.name: s for s in counted.value.stats.experts}
    extra.setdefault("draft", "name: my-expert\nbackend: scripted\nmodel: scripted/demo\n")
    return render(
        request,
        "experts.html",
        who,
        status,
        experts=admin.list_experts(),
        stats=stats,
        loads=counted.value.loads,
        stats_limit=STATS_LIMIT,
        stats_taken=counted.taken_at,
        done=request.query_params.get("done"),
        **extra,
    )


@router.get("")
def experts_page(request: Request, who: ViewerDep) -> Response:
    return _list_page(request, who)


@router.post("")
def create_expert(
    request: Request, who: ActorDep, expert: Annotated[str, Form(max_length=MAX_FORM)] = ""
) -> Response:
    try:
        created = _admin(request).create_expert(Expert.model_validate(_parsed(expert)))
    except (ApiError, ValidationError) as exc:
        status, message = _problem(exc)
        return _list_page(request, who, status, error=message, draft=expert)
    return RedirectResponse(f"/admin/experts?done=created+{created.name}", status_code=303)


@router.get("/{name}")
def edit_page(request: Request, who: ViewerDep, name: str) -> Response:
    try:
        expert = _admin(request).get_expert(name)
    except UnknownExpertError as exc:
        return render(request, "message.html", who, 404, title="Experts", message=str(exc))
    text = yaml.safe_dump(expert.model_dump(mode="json", exclude={"name"}), sort_keys=False)
    return render(request, "expert_edit.html", who, expert=expert, draft=text, error=None)


@router.post("/{name}")
def update_expert(
    request: Request,
    who: ActorDep,
    name: str,
    changes: Annotated[str, Form(max_length=MAX_FORM)] = "",
) -> Response:
    admin = _admin(request)
    try:
        updated = admin.update_expert(name, ExpertUpdate.model_validate(_parsed(changes)))
    except (ApiError, ValidationError, UnknownExpertError) as exc:
        status, message = _problem(exc)
        try:
            expert = admin.get_expert(name)
        except UnknownExpertError:
            return render(request, "message.html", who, 404, title="Experts", message=message)
        return render(
            request, "expert_edit.html", who, status, expert=expert, draft=changes, error=message
        )
    return RedirectResponse(f"/admin/experts?done=saved+{updated.name}", status_code=303)


@router.post("/{name}/enable")
def enable_expert(request: Request, who: ActorDep, name: str) -> Response:
    return _set_enabled(request, who, name, True)


@router.post("/{name}/disable")
def disable_expert(request: Request, who: ActorDep, name: str) -> Response:
    return _set_enabled(request, who, name, False)


def _set_enabled(request: Request, who: Viewer, name: str, enabled: bool) -> Response:
    try:
        _admin(request).set_enabled(name, enabled)
    except UnknownExpertError as exc:
        return render(request, "message.html", who, 404, title="Experts", message=str(exc))
    state = "enabled" if enabled else "disabled"
    return RedirectResponse(f"/admin/experts?done={state}+{name}", status_code=303)
