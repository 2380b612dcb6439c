"""/healthz (no key: the process answers), /readyz (database, broker when configured, an
expert that can load), /metrics (Prometheus text format) and, when the docs are not public,
/openapi.json behind a key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from orchestrator.api.deps import CallerDep, from_state
from orchestrator.api.errors import ErrorResponse
from orchestrator.api.health.service import HealthService
from orchestrator.api.metrics import Metrics

router = APIRouter(tags=["health"])
keyed_schema_router = APIRouter()  # mounted by create_app unless api_public_docs


HealthDep = Annotated[HealthService, Depends(from_state("health"))]
MetricsDep = Annotated[Metrics, Depends(from_state("metrics"))]


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str]


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up (no key needed)."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={401: {"model": ErrorResponse}, 503: {"model": Readiness}},
)
def readyz(caller: CallerDep, health: HealthDep, response: Response) -> Readiness:
    """Whether the database, the broker (in distributed mode) and an expert are usable."""
    checks = health.checks()
    ready = all(v == "ok" for v in checks.values())
    if not ready:
        response.status_code = 503
    return Readiness(ready=ready, checks=checks)


@router.get("/metrics", response_class=Response, responses={401: {"model": ErrorResponse}})
def metrics(caller: CallerDep, metrics: MetricsDep) -> Response:
    """Prometheus metrics: requests, latency, model loads, queue depth, tokens."""
    return Response(metrics.render(), media_type="text/plain; version=0.0.4")


@keyed_schema_router.get("/openapi.json", include_in_schema=False)
def keyed_openapi(caller: CallerDep, request: Request) -> JSONResponse:
    """The OpenAPI schema for key holders (FastAPI's own route serves it without a key)."""
    return JSONResponse(request.app.openapi())
