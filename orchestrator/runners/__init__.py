"""Runner registry: `inprocess` is the embedded default."""

from __future__ import annotations

from orchestrator.runners.base import Runner
from orchestrator.runners.inprocess import InProcessRunner

RUNNERS: dict[str, type[Runner]] = {InProcessRunner.name: InProcessRunner}

__all__ = ["RUNNERS", "InProcessRunner", "Runner"]
