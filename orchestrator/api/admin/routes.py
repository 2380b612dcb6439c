"""Routes of /v1/admin; every one needs an admin key (a user key gets 403)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from orchestrator.api.admin.schemas import ExpertUpdate, KeyCreate, RecruitmentStats
from orchestrator.api.admin.service import AdminService
from orchestrator.api.deps import AdminDep, from_state
from orchestrator.api.errors import ErrorResponse
from orchestrator.db.keys import ApiKeyInfo, CreatedKey
from orchestrator.db.profile_sets import ProfileSetInfo
from orchestrator.experts import Expert
from skills.profiles import ProfileSet

router = APIRouter(prefix="/v1/admin", tags=["admin"])


AdminServiceDep = Annotated[AdminService, Depends(from_state("admin"))]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorResponse} for code in (401, 403, 429, *codes)}


Version = Annotated[
    int | None,
    Query(ge=1, le=2**31 - 1, description="a stored version (default: the newest)"),
]


# -- experts ------------------------------------------------------------------------------


@router.get("/experts", response_model=list[Expert], responses=_errors())
def list_experts(admin: AdminDep, service: AdminServiceDep) -> list[Expert]:
    """Every expert the server knows, enabled or not (secret options hidden)."""
    return service.list_experts()


@router.get("/experts/{name}", response_model=Expert, responses=_errors(404))
def get_expert(name: str, admin: AdminDep, service: AdminServiceDep) -> Expert:
    """One expert's configuration."""
    return service.get_expert(name)


@router.post(
    "/experts",
    response_model=Expert,
    status_code=status.HTTP_201_CREATED,
    responses=_errors(400, 409, 413, 422),
)
def create_expert(body: Expert, admin: AdminDep, service: AdminServiceDep) -> Expert:
    """Add an expert; it is stored and can be recruited from the next request on."""
    return service.create_expert(body)


@router.patch("/experts/{name}", response_model=Expert, responses=_errors(400, 404, 413, 422))
def update_expert(
    name: str, body: ExpertUpdate, admin: AdminDep, service: AdminServiceDep
) -> Expert:
    """Change some fields of an expert; stored, and used from the next request on."""
    return service.update_expert(name, body)


@router.post("/experts/{name}/enable", response_model=Expert, responses=_errors(404))
def enable_expert(name: str, admin: AdminDep, service: AdminServiceDep) -> Expert:
    """Let the recruiter draw this expert again."""
    return service.set_enabled(name, True)


@router.post("/experts/{name}/disable", response_model=Expert, responses=_errors(404))
def disable_expert(name: str, admin: AdminDep, service: AdminServiceDep) -> Expert:
    """Stop drawing this expert (requests in flight finish with it)."""
    return service.set_enabled(name, False)


# -- profile sets -------------------------------------------------------------------------


@router.get("/profile-sets", response_model=list[ProfileSetInfo], responses=_errors())
def list_profile_sets(admin: AdminDep, service: AdminServiceDep) -> list[ProfileSetInfo]:
    """Every stored profile set version, with the active one marked."""
    return service.list_profile_sets()


@router.get("/profile-sets/{name}", response_model=ProfileSet, responses=_errors(404, 422))
def get_profile_set(
    name: str, admin: AdminDep, service: AdminServiceDep, version: Version = None
) -> ProfileSet:
    """One stored profile set with its skill scores (default: its newest version)."""
    return service.get_profile_set(name, version)


@router.post(
    "/profile-sets/{name}/activate", response_model=ProfileSetInfo, responses=_errors(404, 422)
)
def activate_profile_set(
    name: str, admin: AdminDep, service: AdminServiceDep, version: Version = None
) -> ProfileSetInfo:
    """Make a stored profile set the one the recruiter reads, from the next request on."""
    return service.activate_profile_set(name, version)


# -- API keys -----------------------------------------------------------------------------


@router.get("/keys", response_model=list[ApiKeyInfo], responses=_errors())
def list_keys(admin: AdminDep, service: AdminServiceDep) -> list[ApiKeyInfo]:
    """Every API key with its role and revocation time (never the key itself)."""
    return service.list_keys()


@router.post(
    "/keys",
    response_model=CreatedKey,
    status_code=status.HTTP_201_CREATED,
    responses=_errors(400, 413, 422),
)
def create_key(body: KeyCreate, admin: AdminDep, service: AdminServiceDep) -> CreatedKey:
    """Create a key; the response is the only time the key itself is shown."""
    return service.create_key(body.name, body.role)


@router.post("/keys/{key_id}/revoke", response_model=ApiKeyInfo, responses=_errors(404))
def revoke_key(key_id: str, admin: AdminDep, service: AdminServiceDep) -> ApiKeyInfo:
    """Revoke a key: requests with it get 401 from now on."""
    return service.revoke_key(key_id)


# -- statistics ---------------------------------------------------------------------------


@router.get("/stats/recruitment", response_model=RecruitmentStats, responses=_errors(422))
def recruitment_stats(
    admin: AdminDep,
    service: AdminServiceDep,
    since: Annotated[
        datetime | None, Query(description="count queries stored at or after this time")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1_000_000, description="newest queries counted")] = 10_000,
) -> RecruitmentStats:
    """Per expert draws, aggregations, mean weight and errors; per skill how often tagged."""
    return service.recruitment_stats(since, limit)
