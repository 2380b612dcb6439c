"""`symoe worker`: a Celery worker hosting some experts and consuming their queues, and with
`--workflows` the sub-tasks of workflow runs (orchestrator/workflows/celery_subtasks.py)."""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING

import typer

from orchestrator.cli.common import friendly_errors
from orchestrator.errors import InputError
from orchestrator.experts import load_experts
from orchestrator.settings import Settings

if TYPE_CHECKING:
    from celery import Celery

POOLS = ("solo", "threads")  # CUDA cannot live in a forked child: no prefork


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


@friendly_errors
def worker(
    experts: str = typer.Option(None, help="comma-separated experts to host (default: enabled)"),
    memory_budget: int = typer.Option(
        None, "--memory-budget", min=0, help="model pool budget in MB (default: settings)"
    ),
    pool: str = typer.Option("solo", help="solo | threads"),
    concurrency: int = typer.Option(1, min=1, help="threads for the threads pool"),
    loglevel: str = typer.Option("INFO", help="worker log level"),
    workflows: bool = typer.Option(
        False,
        "--workflows",
        help="also run workflow sub-tasks (queue `workflows`); with it, expert queues are "
        "served only when --experts names them",
    ),
) -> None:
    """Serve groups of the hosted experts (and with --workflows, workflow sub-tasks) from the
    broker until stopped."""
    from workers.celery_app import make_celery_app, queue_name

    if pool not in POOLS:
        raise InputError(f"unknown pool {pool!r} (known: {', '.join(POOLS)})")
    settings = Settings()
    registry = load_experts(settings.experts_file)
    default = [] if workflows else [e.name for e in registry.all() if e.enabled]
    hosted = _split(experts) or default
    for name in hosted:
        registry.get(name)  # unknown names fail here, with the known ones listed
    if not hosted and not workflows:
        raise InputError("no experts to host")
    app = make_celery_app(
        settings.broker_url,
        settings.result_backend,
        experts=hosted,
        memory_budget_mb=settings.memory_budget_mb if memory_budget is None else memory_budget,
        visibility_timeout_s=settings.broker_visibility_timeout_s,
        heartbeat_s=settings.worker_heartbeat_s,
        lost_after_s=settings.worker_lost_after_s,
    )
    queues = [queue_name(n) for n in hosted]
    if workflows:
        queues.append(_serve_workflows(app, settings))
    logging.basicConfig(level=loglevel.upper(), format="%(levelname)s %(name)s: %(message)s")
    app.worker_main(
        [
            "worker",
            "--queues",
            ",".join(queues),
            "--pool",
            pool,
            "--concurrency",
            str(1 if pool == "solo" else concurrency),
            "--hostname",
            f"symoe-{os.getpid()}@%h",
            "--loglevel",
            loglevel.upper(),
            "--without-gossip",
            "--without-mingle",
        ]
    )


def _serve_workflows(app: Celery, settings: Settings) -> str:
    """Register the workflow tasks on `app`; their engines come from one deployment of this
    process, made on the first sub-task (its sub-tasks run here, never sent on). Returns the
    queue to consume."""
    from orchestrator.factory import Deployment
    from orchestrator.workflows.celery_subtasks import (
        WORKFLOW_QUEUE,
        register_workflow_tasks,
    )
    from orchestrator.workflows.engine import WorkflowEngine
    from orchestrator.workflows.service import WorkflowService

    lock = threading.Lock()
    made: list[WorkflowService] = []
    log = logging.getLogger("symoe.worker.workflows")

    def engine_for(run_id: str) -> WorkflowEngine:
        with lock:
            if not made:
                made.append(Deployment(settings).workflows(subtask_runner="inprocess"))
        _, engine = made[0].resume(run_id, log.info)
        return engine

    register_workflow_tasks(app, engine_for)
    return WORKFLOW_QUEUE
