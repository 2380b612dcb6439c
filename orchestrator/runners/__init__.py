"""Runner registry: `inprocess` is the embedded default, `celery` the distributed one.
`MicroBatchingRunner` wraps either for online serving."""

from __future__ import annotations

from orchestrator.errors import ConfigError
from orchestrator.runners.base import Runner
from orchestrator.runners.celery import CeleryRunner
from orchestrator.runners.inprocess import InProcessRunner
from orchestrator.runners.microbatch import MicroBatchingRunner
from workers.registry import Registry

# name (SYMOE_RUNNER) -> factory taking the deployment's Settings
RUNNERS: Registry[Runner] = Registry(
    "runner",
    {
        InProcessRunner.name: InProcessRunner.from_settings,
        CeleryRunner.name: CeleryRunner.from_settings,
    },
    error=ConfigError,
)

__all__ = ["RUNNERS", "CeleryRunner", "InProcessRunner", "MicroBatchingRunner", "Runner"]
