"""Retrieval: the per-query gate between retrieved documents and the internal experts.
Registry: GATES (`never`, `always`, `skr_knn`, `expert_rag`), each built from a `GateContext`."""

from __future__ import annotations

from orchestrator.errors import ConfigError
from orchestrator.retrieval.gate import AlwaysRetrieve, GateContext, NeverRetrieve, RetrievalGate
from workers.registry import Registry

GATES: Registry[RetrievalGate] = Registry(
    "retrieval gate",
    {
        NeverRetrieve.name: NeverRetrieve,
        AlwaysRetrieve.name: AlwaysRetrieve,
        "skr_knn": "orchestrator.retrieval.skr:SkrKnnGate",
        "expert_rag": "orchestrator.retrieval.expert_rag:ExpertRagGate",
    },
    error=ConfigError,
)

# A request's `retrieval` names a gate, or `auto`: the server's configured gate.
AUTO = "auto"


def retrieval_choices() -> list[str]:
    return [AUTO, *GATES.names()]


def check_retrieval(name: str) -> str:
    """`name` when it is `auto` or a gate; else an error naming the choices."""
    if name != AUTO and name not in GATES:
        raise ConfigError(f"unknown retrieval {name!r} (known: {', '.join(retrieval_choices())})")
    return name


__all__ = [
    "AUTO",
    "GATES",
    "AlwaysRetrieve",
    "GateContext",
    "NeverRetrieve",
    "RetrievalGate",
    "check_retrieval",
    "retrieval_choices",
]
