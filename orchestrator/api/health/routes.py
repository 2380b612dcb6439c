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
from orchestrator.runners import CeleryRunner, MicroBatchingRunner

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
    runner = services.runner
    inner = runner.inner if isinstance(runner, MicroBatchingRunner) else runner
    if isinstance(inner, CeleryRunner):
        try:
            inner.check_reachable()
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"failed: {exc}"
    checks["experts"] = _expert_check(services)
    ready = all(v == "ok" for v in checks.values())
    if not ready:
        response.status_code = 503
    return Readiness(ready=ready, checks=checks)


def _expert_check(services: ServicesDep) -> str:
    """At least one enabled expert that can load: its backend's package is there and its
    model can be found (`LLMBackend.check`); loading weights here would make the probe as
    slow as a model load. Behind Celery the workers load the models, so only the backend
    name is checked here."""
    from workers.backends import backend_class, create_backend
    from workers.types import BackendError

    problems = []
    deployment = services.deployment
    local = deployment.settings.runner == "inprocess"
    for expert in deployment.registry.all():
        if not expert.enabled:
            continue
        try:
            if local:
                create_backend(expert.spec(**deployment.spec_options())).check()
            else:
                backend_class(expert.backend)
            return "ok"
        except BackendError as exc:
            problems.append(f"{expert.name}: {exc}")
    return "failed: no usable expert" + (f" ({'; '.join(problems)})" if problems else "")


@router.get("/metrics", response_class=Response, responses={401: {"model": ErrorResponse}})
def metrics(caller: CallerDep, services: ServicesDep) -> Response:
    """Prometheus metrics: requests, latency, model loads, queue depth, tokens."""
    return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")


@keyed_schema_router.get("/openapi.json", include_in_schema=False)
def keyed_openapi(caller: CallerDep, request: Request) -> JSONResponse:
    """The OpenAPI schema for key holders (FastAPI's own route serves it without a key)."""
    return JSONResponse(request.app.openapi())
