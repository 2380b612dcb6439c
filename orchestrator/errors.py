"""User-facing errors: each carries a one-line message the CLI and API show as is."""

from __future__ import annotations


class SymoeError(Exception):
    """Base for errors caused by input or configuration, not by a bug."""


class ConfigError(SymoeError):
    pass


class InputError(SymoeError):
    """Bad input from a caller; `param` names the request field at fault, where one is."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class UnknownExpertError(SymoeError):
    pass


class BrokerUnreachableError(SymoeError):
    """The distributed runner cannot reach its broker or result backend."""


class RunnerClosedError(SymoeError):
    """The runner was cancelled (the server is stopping) while groups were outstanding."""
