"""/admin/routing: how symoe has been routing — draws per expert and per skill, aggregator
use, failures and replacements over the newest stored queries (routing_view, counted at most
every STATS_TTL_S per window and shared by requests meanwhile), and the distinct experts
loaded per batch over the newest batches (QueryLog.batch_loads). Draws per benchmark come
from the evaluation runs' prediction files (eval_draws: stored queries carry no benchmark
tag), counted in the same snapshot. Charts are inline SVG (charts.py)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from orchestrator.api.dashboard.auth import ViewerDep
from orchestrator.api.dashboard.charts import Series, bar_chart, line_chart
from orchestrator.api.dashboard.eval_draws import MAX_RUNS, ROW_CAP, benchmark_draws
from orchestrator.api.dashboard.routing_view import (
    NO_SKILL,
    WINDOWS,
    RoutingCounts,
    routing_counts,
    window,
)
from orchestrator.api.dashboard.snapshots import Snapshots
from orchestrator.api.dashboard.templating import render
from orchestrator.db.query_log import QueryLog
from orchestrator.errors import InputError

router = APIRouter(prefix="/admin/routing", include_in_schema=False)
STATS_TTL_S = 30.0
TOP_SKILLS = 25  # skill rows shown (of up to hundreds)
BATCHES = 200  # newest batches in the loads chart


def _snapshots(request: Request) -> Snapshots[RoutingCounts]:
    state = request.app.state
    if not hasattr(state, "dashboard_routing"):
        state.dashboard_routing = Snapshots[RoutingCounts](ttl_s=STATS_TTL_S)
    return state.dashboard_routing  # type: ignore[no-any-return]


@router.get("")
def routing_page(request: Request, who: ViewerDep) -> Response:
    try:
        limit = window(request.query_params.get("window"))
    except InputError as exc:
        return render(request, "message.html", who, 400, title="Routing", message=str(exc))
    deployment = request.app.state.services.deployment
    settings = request.app.state.services.settings
    runs_dir = Path(settings.eval_runs_dir or settings.data_dir / "eval-runs")

    def count() -> RoutingCounts:
        digests = deployment.stores.traces.plan_digests(None, limit)
        registered = [e.name for e in deployment.registry.all()]
        return routing_counts(digests, registered, limit, benchmark_draws(runs_dir))

    snapshot = _snapshots(request).get(limit, count)
    counts = snapshot.value
    experts = counts.stats.experts
    batches = QueryLog(deployment.stores.sessions).batch_loads(BATCHES)
    charts = {
        "draws": bar_chart([(e.name, e.drawn) for e in experts if e.drawn], "Draws per expert"),
        "aggregations": bar_chart(
            [(e.name, e.aggregator) for e in experts if e.aggregator],
            "Aggregations per expert",
            css="svg-bar alt",
        ),
        "loads": line_chart(
            [b.created_at.strftime("%m-%d %H:%M:%S") for b in batches],
            [
                Series("distinct experts loaded", [b.experts for b in batches], "series-a"),
                Series("model loads", [b.loads for b in batches], "series-b"),
            ],
            "Experts loaded per batch, oldest to newest",
        ),
    }
    return render(
        request,
        "routing.html",
        who,
        counts=counts,
        taken_at=snapshot.taken_at,
        window=limit,
        windows=WINDOWS,
        skills=counts.skills[:TOP_SKILLS],
        no_skill=NO_SKILL,
        batches=batches,
        charts=charts,
        benchmark_charts={
            b.benchmark: bar_chart(b.draws.most_common(), f"Draws in {b.benchmark}")
            for b in counts.benchmarks
        },
        row_cap=ROW_CAP,
        max_runs=MAX_RUNS,
    )
