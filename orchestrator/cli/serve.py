"""`symoe serve`: the REST API (and its OpenAI-compatible endpoints) with uvicorn, in this
process or, with --workers N > 1, in N processes under a supervisor (api/supervisor.py)."""

from __future__ import annotations

import logging
import sys

import typer

from orchestrator.cli.common import friendly_errors
from orchestrator.settings import Settings


@friendly_errors
def serve(
    host: str = typer.Option(None, help="bind address (default: settings, 127.0.0.1)"),
    port: int = typer.Option(None, min=1, max=65535, help="port (default: settings, 8000)"),
    workers: int = typer.Option(
        None,
        min=1,
        max=64,
        help="API processes on the port (default: settings, 1); shared state goes through "
        "the database, and the rate limit through Redis with SYMOE_API_RATE_LIMIT_STORE=redis",
    ),
    log_level: str = typer.Option("info", help="uvicorn log level"),
) -> None:
    """Serve the API until stopped. Every endpoint but /healthz needs a key: create one
    with `symoe keys create --role admin`."""
    from orchestrator.api.auth.ratelimit import RateLimiter

    settings = Settings() if workers is None else Settings(api_workers=workers)
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    # an unknown store or a Redis that does not answer: one line now, not a child's traceback
    RateLimiter.from_settings(settings).close()
    host, port = host or settings.api_host, port or settings.api_port
    if settings.api_workers > 1:
        from orchestrator.api.supervisor import serve_processes

        sys.exit(serve_processes(settings, host, port, log_level))

    from orchestrator.api.app import create_app
    from orchestrator.api.server import run_server

    run_server(
        create_app(settings),
        host=host,
        port=port,
        log_level=log_level,
        grace_s=settings.api_shutdown_grace_s,
    )
