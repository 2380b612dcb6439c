"""Backend registry: the names used in experts.yaml and on the CLI."""

from __future__ import annotations

from typing import cast

from workers.backends.base import LLMBackend
from workers.registry import Registry
from workers.settings import WorkerSettings
from workers.types import BackendError, ModelSpec

# name -> "module:Class"; imported lazily so optional dependencies (llama_cpp, vllm) are only
# needed by the backends actually used. Every backend is constructed from its ModelSpec and
# the WorkerSettings of the process that runs it.
BACKENDS: Registry[LLMBackend] = Registry(
    "backend",
    {
        "llamacpp": "workers.backends.llamacpp:LlamaCppBackend",
        "openai": "workers.backends.openai_compat:OpenAIBackend",
        "replay": "workers.backends.replay:ReplayBackend",
        "scripted": "workers.backends.scripted:ScriptedBackend",
        "vllm": "workers.backends.vllm_offline:VLLMBackend",
    },
    error=BackendError,
)


def backend_class(name: str) -> type[LLMBackend]:
    """The class itself, for its class-level answers (`features`) without loading a model."""
    return cast(type[LLMBackend], BACKENDS.get(name))


def create_backend(spec: ModelSpec, settings: WorkerSettings | None = None) -> LLMBackend:
    """A backend for `spec` that finds its files where `settings` say (default: this
    process's environment)."""
    return BACKENDS.create(spec.backend, spec, settings)


__all__ = ["BACKENDS", "LLMBackend", "backend_class", "create_backend"]
