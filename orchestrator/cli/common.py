"""Shared CLI plumbing: one-line errors, the deployment, JSON output."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from orchestrator.errors import SymoeError
from orchestrator.factory import Deployment
from orchestrator.settings import Settings
from workers.types import BackendError

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def friendly_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Input and configuration problems end the command with one line and exit code 2."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (SymoeError, BackendError, ValueError) as exc:
            err_console.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
            raise typer.Exit(code=2) from None

    return wrapper


def print_json(data: object) -> None:
    """Plain JSON on stdout (no wrapping or colour), for pipes and scripts."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@contextmanager
def deployment(**overrides: object) -> Iterator[Deployment]:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    dep = Deployment(Settings(**overrides))  # type: ignore[arg-type]
    try:
        yield dep
    finally:
        dep.close()
