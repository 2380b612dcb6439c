"""/admin/workers: where this server's groups run. In process: the server's own model pool
(resident models, loads, evictions) and no remote workers. With the Celery runner: the live
workers, the experts each hosts, their pools, and each queue's depth on the broker; a broker
that does not answer is said on the page (workers_view.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from orchestrator.api.dashboard.auth import ViewerDep
from orchestrator.api.dashboard.templating import render
from orchestrator.api.dashboard.workers_view import workers_view

router = APIRouter(prefix="/admin/workers", include_in_schema=False)
INSPECT_TIMEOUT_S = 1.0  # how long a worker has to answer; a busy solo worker may not


@router.get("")
def workers_page(request: Request, who: ViewerDep) -> Response:
    services = request.app.state.services
    experts = [e.name for e in services.deployment.registry.all()]
    view = workers_view(services.runner, experts, INSPECT_TIMEOUT_S)
    return render(request, "workers.html", who, view=view, timeout_s=INSPECT_TIMEOUT_S)
