"""Runner registry: `inprocess` is the embedded default, `celery` the distributed one.
`MicroBatchingRunner` wraps either for online serving."""

from __future__ import annotations

from orchestrator.runners.base import Runner
from orchestrator.runners.celery import CeleryRunner
from orchestrator.runners.inprocess import InProcessRunner
from orchestrator.runners.microbatch import MicroBatchingRunner

RUNNERS: dict[str, type[Runner]] = {
    InProcessRunner.name: InProcessRunner,
    CeleryRunner.name: CeleryRunner,
}

__all__ = ["RUNNERS", "CeleryRunner", "InProcessRunner", "MicroBatchingRunner", "Runner"]
