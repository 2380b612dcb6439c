"""/admin/queries: the stored queries, searchable (question, expert answered, status, error) and
paged newest first by keyset (QueryLog), and /admin/queries/{id}: one query's trace as a tree
(trace_tree)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from orchestrator.api.dashboard.auth import ViewerDep
from orchestrator.api.dashboard.query_view import ListRequest
from orchestrator.api.dashboard.templating import render
from orchestrator.api.dashboard.trace_tree import trace_tree
from orchestrator.db.query_log import QueryLog
from orchestrator.errors import InputError

router = APIRouter(prefix="/admin/queries", include_in_schema=False)
COUNT_CAP = 1000  # a filter's matches are counted up to this many; beyond, "1000+"


def _log(request: Request) -> QueryLog:
    return QueryLog(request.app.state.services.deployment.stores.sessions)


@router.get("")
def queries_page(request: Request, who: ViewerDep) -> Response:
    experts = [e.name for e in request.app.state.services.deployment.registry.all()]
    try:
        asked = ListRequest.parse(request.query_params)
    except InputError as exc:
        return render(
            request,
            "queries.html",
            who,
            400,
            error=str(exc),
            experts=experts,
            asked=None,
            page=None,
            matching=0,
            cap=COUNT_CAP,
        )
    log = _log(request)
    page = log.page(asked.where, asked.limit, before=asked.before, after=asked.after)
    return render(
        request,
        "queries.html",
        who,
        asked=asked,
        page=page,
        matching=log.count(asked.where, COUNT_CAP + 1),
        cap=COUNT_CAP,
        experts=experts,
    )


@router.get("/{query_id}")
def query_page(request: Request, who: ViewerDep, query_id: str) -> Response:
    trace = request.app.state.services.deployment.stores.traces.get_trace(query_id)
    listed = _log(request).get(query_id)
    if trace is None or listed is None:
        message = f"no stored query with id {query_id!r}"
        return render(request, "message.html", who, 404, title="Queries", message=message)
    return render(request, "query_trace.html", who, tree=trace_tree(trace), listed=listed)
