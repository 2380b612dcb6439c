"""The FastAPI app: `create_app(settings)` builds the services in the lifespan, installs the
error shape, the input guard, the body-size limit, metrics and (only when configured) CORS,
and mounts each feature's router. The schema and its docs pages answer without a key only
when `api_public_docs` says so."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from orchestrator.api.admin.routes import router as admin_router
from orchestrator.api.answers.routes import router as answers_router
from orchestrator.api.dashboard.routes import install_dashboard
from orchestrator.api.documents.routes import router as documents_router
from orchestrator.api.errors import install_error_handlers
from orchestrator.api.health.routes import keyed_schema_router
from orchestrator.api.health.routes import router as health_router
from orchestrator.api.input_guard import refuse_unstorable_input
from orchestrator.api.jobs.routes import router as jobs_router
from orchestrator.api.middleware import LimitsAndMetrics
from orchestrator.api.openai.routes import router as openai_router
from orchestrator.api.services import ApiServices
from orchestrator.api.workflows.routes import router as workflows_router
from orchestrator.factory import Deployment
from orchestrator.settings import Settings


def create_app(settings: Settings | None = None, deployment: Deployment | None = None) -> FastAPI:
    settings = settings or (deployment.settings if deployment else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = ApiServices(settings, deployment)
        services.deployment.stores  # noqa: B018 - migrate and sync experts before serving
        services.admin.load_stored_experts()  # enabled flags, experts created over the API
        services.publish(app.state)
        services.start_following()  # several processes: apply the others' admin changes
        services.jobs.start()  # requeues jobs a stopped server left running
        # What start-up built lives as long as the server: out of the collector's way, so
        # full collections stay short (they cost 100 ms and more at the p99 otherwise).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            services.close()

    public_docs = settings.api_public_docs
    if public_docs is None:  # unset: public for the embedded default, keyed when distributed
        public_docs = settings.runner == "inprocess"
    app = FastAPI(
        title="symoe",
        summary="Answers from a query-specific committee of expert LLMs",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(refuse_unstorable_input)],
        openapi_url="/openapi.json" if public_docs else None,
        docs_url="/docs" if public_docs else None,
        redoc_url="/redoc" if public_docs else None,
    )
    install_error_handlers(app)
    routers = (
        health_router,
        answers_router,
        jobs_router,
        admin_router,
        documents_router,
        workflows_router,
        openai_router,
    )
    for router in routers:
        app.include_router(router)
    if not public_docs:
        app.include_router(keyed_schema_router)
    install_dashboard(app)  # /admin: the admin dashboard's pages
    if settings.api_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api_cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )

    app.add_middleware(LimitsAndMetrics, max_body_bytes=settings.api_max_body_bytes)
    return app
