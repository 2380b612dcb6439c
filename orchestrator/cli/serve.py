"""`symoe serve`: the REST API (and its OpenAI-compatible endpoints) with uvicorn."""

from __future__ import annotations

import logging

import typer

from orchestrator.cli.common import friendly_errors
from orchestrator.settings import Settings


@friendly_errors
def serve(
    host: str = typer.Option(None, help="bind address (default: settings, 127.0.0.1)"),
    port: int = typer.Option(None, min=1, max=65535, help="port (default: settings, 8000)"),
    log_level: str = typer.Option("info", help="uvicorn log level"),
) -> None:
    """Serve the API until stopped. Every endpoint but /healthz needs a key: create one
    with `symoe keys create --role admin`."""
    from orchestrator.api.app import create_app
    from orchestrator.api.server import run_server

    settings = Settings()
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    run_server(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level=log_level,
        grace_s=settings.api_shutdown_grace_s,
    )
