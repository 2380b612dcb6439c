"""User-facing errors: each carries a one-line message the CLI and API show as is."""

from __future__ import annotations


class SymoeError(Exception):
    """Base for errors caused by input or configuration, not by a bug."""


class ConfigError(SymoeError):
    pass


class InputError(SymoeError):
    pass


class UnknownExpertError(SymoeError):
    pass


class BrokerUnreachableError(SymoeError):
    """The distributed runner cannot reach its broker or result backend."""


class RunnerClosedError(SymoeError):
    """The runner was cancelled (the server is stopping) while groups were outstanding."""
