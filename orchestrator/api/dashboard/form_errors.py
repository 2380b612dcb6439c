"""How a page tells a form's validation error: the first error, as `field.path: message`."""

from __future__ import annotations

from pydantic import ValidationError


def first_error(exc: ValidationError, whole: str = "") -> tuple[str, str]:
    """(where, message) of the first error; `whole` names a model-level error's place."""
    first = exc.errors()[0]
    return ".".join(str(p) for p in first["loc"]) or whole, str(first["msg"])


def error_line(exc: ValidationError, whole: str = "") -> str:
    where, message = first_error(exc, whole)
    return f"{where}: {message}"
