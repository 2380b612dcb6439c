"""The FastAPI app: `create_app(settings)` builds the services in the lifespan, installs the
error shape, the body-size limit, metrics and (only when configured) CORS, and mounts each
feature's router."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

from orchestrator.api.admin.routes import router as admin_router
from orchestrator.api.answers.routes import router as answers_router
from orchestrator.api.errors import error_response, install_error_handlers
from orchestrator.api.health.routes import router as health_router
from orchestrator.api.jobs.routes import router as jobs_router
from orchestrator.api.openai.routes import router as openai_router
from orchestrator.api.services import ApiServices
from orchestrator.factory import Deployment
from orchestrator.settings import Settings


def create_app(settings: Settings | None = None, deployment: Deployment | None = None) -> FastAPI:
    settings = settings or (deployment.settings if deployment else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = ApiServices(settings, deployment)
        services.deployment.store  # noqa: B018 - migrate and sync experts before serving
        services.admin.load_stored_experts()  # enabled flags, experts created over the API
        app.state.services = services
        services.jobs.start()  # requeues jobs a stopped server left running
        try:
            yield
        finally:
            services.close()

    app = FastAPI(
        title="symoe",
        summary="Answers from a query-specific committee of expert LLMs",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for router in (health_router, answers_router, jobs_router, admin_router, openai_router):
        app.include_router(router)
    if settings.api_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api_cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )

    @app.middleware("http")
    async def limits_and_metrics(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        length = request.headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return error_response(400, "invalid Content-Length header")
            if int(length) > settings.api_max_body_bytes:
                return error_response(
                    413,
                    f"request body of {length} bytes exceeds the limit of "
                    f"{settings.api_max_body_bytes} bytes",
                )
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        services: ApiServices | None = getattr(request.app.state, "services", None)
        if services is not None:
            services.metrics.requests.labels(
                method=request.method, route=path, status=str(response.status_code)
            ).inc()
            services.metrics.latency.labels(route=path).observe(time.perf_counter() - started)
        return response

    return app
