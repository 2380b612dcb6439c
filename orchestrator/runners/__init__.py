"""Runner registry: `inprocess` is the embedded default, `celery` the distributed one."""

from __future__ import annotations

from orchestrator.runners.base import Runner
from orchestrator.runners.celery import CeleryRunner
from orchestrator.runners.inprocess import InProcessRunner

RUNNERS: dict[str, type[Runner]] = {
    InProcessRunner.name: InProcessRunner,
    CeleryRunner.name: CeleryRunner,
}

__all__ = ["RUNNERS", "CeleryRunner", "InProcessRunner", "Runner"]
