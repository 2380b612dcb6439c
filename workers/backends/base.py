"""The one interface every LLM backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from workers.settings import WorkerSettings
from workers.types import (
    BackendFeature,
    Completion,
    GenerationParams,
    ModelSpec,
    Prompt,
    TextSink,
)


class LLMBackend(ABC):
    """Load a model once, generate for a whole group of prompts, unload.

    `generate` takes the full group so backends that can batch (llama.cpp sequences, vLLM)
    decode the prompts together. Where files lie (models, recordings, caches) comes from
    `settings`, the paths of the process that runs the backend, never from the spec.
    """

    def __init__(self, spec: ModelSpec, settings: WorkerSettings | None = None) -> None:
        self.spec = spec
        # none given: this process's environment, as a Celery worker reads it
        self.settings = settings if settings is not None else WorkerSettings()

    @classmethod
    def features(cls, spec: ModelSpec) -> frozenset[BackendFeature]:
        """The optional GenerationParams features this backend honours for `spec` (asked
        before any model loads, so a request it cannot honour is refused up front)."""
        return frozenset()

    @classmethod  # noqa: B027 - optional hook: only backends with "json_schema" check
    def check_json_schema(cls, spec: ModelSpec, schema: dict[str, Any]) -> None:
        """Raise BackendError if this backend cannot constrain decoding to `schema` (for a
        backend with the "json_schema" feature), without loading the model."""

    @abstractmethod
    def load(self) -> None:
        """Bring the model into memory. Raises BackendError with a clear message on failure."""

    def check(self) -> None:  # noqa: B027 - optional hook: most backends have nothing to check
        """Raise BackendError if `load` cannot work (missing package or model file), without
        loading any weights: what a readiness probe asks. The default knows of nothing."""

    @abstractmethod
    def generate(self, prompts: list[Prompt], params: GenerationParams) -> list[Completion]:
        """One completion per prompt, in order."""

    def generate_streaming(
        self, prompts: list[Prompt], params: GenerationParams, on_text: TextSink
    ) -> list[Completion]:
        """`generate`, also handing each prompt's new text to `on_text` as it is decoded; the
        pieces of a prompt join to its completion's text. Backends that cannot stream (this
        default) hand over each prompt's whole text once it is done."""
        completions = self.generate(prompts, params)
        for i, completion in enumerate(completions):
            on_text(i, completion.text)
        return completions

    @abstractmethod
    def unload(self) -> None:
        """Release the model's memory."""

    def fits(self, prompt: Prompt) -> bool:
        """Whether the prompt fits the context window; backends that can count tokens override."""
        return True
