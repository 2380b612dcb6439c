"""/healthz (no key: the process answers), /readyz (database, broker when configured, an
expert that can load), /metrics (Prometheus text format) and, when the docs are not public,
/openapi.json behind a key."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from orchestrator.api.deps import CallerDep, ServicesDep
from orchestrator.api.errors import ErrorResponse

router = APIRouter(tags=["health"])
keyed_schema_router = APIRouter()  # mounted by create_app unless api_public_docs


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
def readyz(caller: CallerDep, services: ServicesDep, response: Response) -> Readiness:
    """Whether the database, the broker (in distributed mode) and an expert are usable."""
    checks: dict[str, str] = {}
    try:
        with services.deployment.stores.sessions() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"failed: {type(exc).__name__}: {exc}"
    # the runner knows what it depends on (a broker) and where the models load, so whether
    # an enabled expert can load there
    experts = [e.spec() for e in services.deployment.registry.all() if e.enabled]
    checks.update(services.runner.check(experts))
    ready = all(v == "ok" for v in checks.values())
    if not ready:
        response.status_code = 503
    return Readiness(ready=ready, checks=checks)


@router.get("/metrics", response_class=Response, responses={401: {"model": ErrorResponse}})
def metrics(caller: CallerDep, services: ServicesDep) -> Response:
    """Prometheus metrics: requests, latency, model loads, queue depth, tokens."""
    return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")


@keyed_schema_router.get("/openapi.json", include_in_schema=False)
def keyed_openapi(caller: CallerDep, request: Request) -> JSONResponse:
    """The OpenAPI schema for key holders (FastAPI's own route serves it without a key)."""
    return JSONResponse(request.app.openapi())
