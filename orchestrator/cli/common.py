"""Shared CLI plumbing: one-line errors, the deployment, JSON output."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console

from orchestrator.benchmarks import fields_mapping
from orchestrator.errors import ConfigError, InputError, SymoeError
from orchestrator.factory import Deployment
from orchestrator.settings import Settings
from skills.embeddings import EmbeddingModelMissing
from workers.types import BackendError

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def _refuse(exc: Exception) -> NoReturn:
    err_console.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
    raise typer.Exit(code=2) from None


def friendly_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Input and configuration problems end the command with one line and exit code 2."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (SymoeError, BackendError, ValueError) as exc:
            _refuse(exc)

    return wrapper


def names_of(
    check: Callable[[str], object], many: bool = False
) -> Callable[[str | None], str | None]:
    """A typer option callback: the value (each of a comma-separated list when `many`) must
    pass `check`, a registry's check, whose error names the known names. A refused value
    ends the command before it starts, the way `friendly_errors` ends it."""

    def callback(value: str | None) -> str | None:
        if value is not None:
            try:
                for name in value.split(",") if many else [value]:
                    check(name.strip())
            except (SymoeError, ValueError) as exc:
                _refuse(exc)
        return value

    return callback


def choices(names: Sequence[str]) -> str:
    """Registered names as option help shows them."""
    return " | ".join(names)


FIELD_HELP = (
    "generic benchmark: TARGET=SOURCE maps one of question, answer, choices, id, category to "
    "the file's field, e.g. --field question=ctx --field choices=endings --field answer=label "
    "(repeat the option; choices=a,b,c,d takes separate columns)"
)
ANSWER_FORMATS = ("letter", "number", "math", "free")


def field_mapping(fields: list[str] | None, answer_format: str | None) -> dict[str, str] | None:
    """`--field` and `--answer-format` as a generic benchmark's mapping (None: neither given)."""
    mapping = fields_mapping(fields or [])
    if answer_format is not None:
        if answer_format not in ANSWER_FORMATS:
            known = ", ".join(ANSWER_FORMATS)
            raise InputError(f"--answer-format must be one of {known}, not {answer_format!r}")
        mapping["fmt"] = answer_format
    return mapping or None


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


@contextmanager
def model_errors() -> Iterator[None]:
    """The bundled embedding model missing is a configuration error, told in one line."""
    try:
        yield
    except EmbeddingModelMissing as exc:
        raise ConfigError(str(exc)) from None
