"""`symoe worker`: a Celery worker hosting some experts and consuming their queues."""

from __future__ import annotations

import logging
import os

import typer

from orchestrator.cli.common import friendly_errors
from orchestrator.errors import InputError
from orchestrator.experts import load_experts
from orchestrator.settings import Settings

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
) -> None:
    """Serve groups of the hosted experts from the broker until stopped."""
    from workers.celery_app import make_celery_app, queue_name

    if pool not in POOLS:
        raise InputError(f"unknown pool {pool!r} (known: {', '.join(POOLS)})")
    settings = Settings()
    registry = load_experts(settings.experts_file)
    hosted = _split(experts) or [e.name for e in registry.all() if e.enabled]
    for name in hosted:
        registry.get(name)  # unknown names fail here, with the known ones listed
    if not hosted:
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
    logging.basicConfig(level=loglevel.upper(), format="%(levelname)s %(name)s: %(message)s")
    app.worker_main(
        [
            "worker",
            "--queues",
            ",".join(queue_name(n) for n in hosted),
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
