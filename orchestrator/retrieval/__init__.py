"""Retrieval: the per-query gate between retrieved documents and the internal experts.
Registry: GATES (only `never` exists until a retriever does)."""

from __future__ import annotations

from orchestrator.errors import ConfigError
from orchestrator.retrieval.gate import NeverRetrieve, RetrievalGate
from workers.registry import Registry

GATES: Registry[RetrievalGate] = Registry(
    "retrieval gate", {NeverRetrieve.name: NeverRetrieve}, error=ConfigError
)

__all__ = ["GATES", "NeverRetrieve", "RetrievalGate"]
