"""/admin/profiles: the heatmap of the profile set recruitment reads (or of any stored one,
`?set=NAME@vN`), filtered by skill text, sorted and paginated on the server; the stored
sets with a switch of the active one (through AdminService, as
/v1/admin/profile-sets/{name}/activate); and /admin/profiles/compare, what changed between
two stored sets."""

from __future__ import annotations

import threading
from typing import Annotated, Any
from weakref import WeakKeyDictionary

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from orchestrator.api.admin.service import AdminService
from orchestrator.api.dashboard.auth import ActorDep, Viewer, ViewerDep
from orchestrator.api.dashboard.profiles_compare import KINDS, compare
from orchestrator.api.dashboard.profiles_view import (
    heatmap,
    link,
    parse_page,
    parse_ref,
)
from orchestrator.api.dashboard.templating import render
from orchestrator.api.errors import ApiError
from orchestrator.errors import InputError, SymoeError
from skills.profiles import ProfileSet

router = APIRouter(prefix="/admin/profiles", include_in_schema=False)
BASE = "/admin/profiles"
Param = Annotated[str | None, Query(max_length=500)]
CACHED_SETS = 6
_CACHE: WeakKeyDictionary[AdminService, dict[tuple[str, int], ProfileSet]] = WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def _admin(request: Request) -> AdminService:
    return request.app.state.admin  # type: ignore[no-any-return]


def _problem(request: Request, who: Viewer, exc: Exception, title: str) -> Response:
    status = exc.status if isinstance(exc, ApiError) else 400
    message = exc.message if isinstance(exc, ApiError) else str(exc)
    return render(request, "message.html", who, status, title=title, message=message)


def _stored(request: Request, ref: str, what: str) -> ProfileSet:
    """A stored set by `NAME[@vN]`. A stored version never changes, so the last few read are
    kept parsed (a 22 x 500 set takes ~100 ms to load and validate); `NAME` alone is
    resolved to its newest version first, from the listing (no bodies)."""
    name, version = parse_ref(ref, what)
    admin = _admin(request)
    if version is None:
        newest = [i.version for i in admin.list_profile_sets() if i.name == name]
        if not newest:
            return admin.get_profile_set(name, None)  # raises: unknown set
        version = max(newest)
    with _CACHE_LOCK:
        cache = _CACHE.setdefault(admin, {})
        found = cache.get((name, version))
    if found is None:
        found = admin.get_profile_set(name, version)
        with _CACHE_LOCK:
            cache[(name, version)] = found
            while len(cache) > CACHED_SETS:
                cache.pop(next(iter(cache)))
    return found


@router.get("")
def profiles_page(
    request: Request,
    who: ViewerDep,
    set_: Annotated[str | None, Query(alias="set", max_length=500)] = None,
    q: Param = None,
    sort: Param = None,
    direction: Annotated[str | None, Query(alias="dir", max_length=10)] = None,
    page: Param = None,
) -> Response:
    try:
        if set_:
            ps: ProfileSet | None = _stored(request, set_, "set")
        else:  # what the planner recruits with: the active stored set, else the configured file
            ps = request.app.state.services.deployment.profile
        shown = None
        if ps is not None:
            order = sort or "skill"
            way = direction or ("asc" if order == "skill" else "desc")
            shown = heatmap(ps, q or "", order, way, parse_page(page))
    except (ApiError, SymoeError) as exc:
        return _problem(request, who, exc, "Profiles")
    keep = {"set": set_, "q": q}

    def sort_href(key: str) -> str:
        current = shown is not None and shown.sort == key
        default = "asc" if key == "skill" else "desc"
        flipped = "asc" if current and shown is not None and shown.direction == "desc" else "desc"
        return link(BASE, **keep, sort=key, dir=flipped if current else default)

    def page_href(n: int) -> str:
        assert shown is not None
        return link(BASE, **keep, sort=shown.sort, dir=shown.direction, page=n)

    return render(
        request,
        "profiles.html",
        who,
        heatmap=shown,
        viewing=set_,
        sets=_admin(request).list_profile_sets(),
        unprofiled=[
            e.name
            for e in request.app.state.services.deployment.registry.all()
            if ps is not None and e.name not in ps.experts
        ],
        q=q or "",
        sort_href=sort_href,
        page_href=page_href,
        done=request.query_params.get("done"),
    )


@router.post("/activate")
def activate(
    request: Request,
    who: ActorDep,
    name: Annotated[str, Form(max_length=500)] = "",
    version: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        ref = f"{name}@{version}" if version.strip() else name
        parsed_name, parsed_version = parse_ref(ref, "name")
        info = _admin(request).activate_profile_set(parsed_name, parsed_version)
    except (ApiError, InputError) as exc:
        return _problem(request, who, exc, "Profiles")
    return RedirectResponse(
        link(BASE, done=f"activated {info.name}@v{info.version}"), status_code=303
    )


@router.get("/compare")
def compare_page(
    request: Request,
    who: ViewerDep,
    a: Param = None,
    b: Param = None,
    q: Param = None,
    kind: Param = None,
    page: Param = None,
) -> Response:
    sets = _admin(request).list_profile_sets()
    context: dict[str, Any] = {"sets": sets, "a": a or "", "b": b or "", "q": q or ""}
    context |= {"kind": kind or "", "kinds": KINDS, "comparison": None}
    if a and b:
        try:
            result = compare(
                _stored(request, a, "a"), _stored(request, b, "b"), q or "", kind or "",
                parse_page(page),
            )  # fmt: skip
        except (ApiError, SymoeError) as exc:
            return _problem(request, who, exc, "Compare profile sets")
        context["comparison"] = result
        context["page_href"] = lambda n: link(f"{BASE}/compare", a=a, b=b, q=q, kind=kind, page=n)
    elif a or b:
        error = "give both profile sets to compare, a and b"
        return render(request, "profiles_compare.html", who, 400, error=error, **context)
    return render(request, "profiles_compare.html", who, **context)
