"""Backend registry: the names used in experts.yaml and on the CLI."""

from __future__ import annotations

from importlib import import_module

from workers.backends.base import LLMBackend
from workers.types import BackendError, ModelSpec

# name -> "module:Class"; imported lazily so optional dependencies (llama_cpp, vllm) are only
# needed by the backends actually used.
BACKENDS: dict[str, str] = {
    "llamacpp": "workers.backends.llamacpp:LlamaCppBackend",
    "openai": "workers.backends.openai_compat:OpenAIBackend",
    "replay": "workers.backends.replay:ReplayBackend",
    "scripted": "workers.backends.scripted:ScriptedBackend",
    "vllm": "workers.backends.vllm_offline:VLLMBackend",
}


def backend_class(name: str) -> type[LLMBackend]:
    try:
        target = BACKENDS[name]
    except KeyError:
        known = ", ".join(sorted(BACKENDS))
        raise BackendError(f"unknown backend {name!r} (known: {known})") from None
    module_name, _, cls_name = target.partition(":")
    cls: type[LLMBackend] = getattr(import_module(module_name), cls_name)
    return cls


def create_backend(spec: ModelSpec) -> LLMBackend:
    return backend_class(spec.backend)(spec)


__all__ = ["BACKENDS", "LLMBackend", "backend_class", "create_backend"]
