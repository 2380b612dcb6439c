"""The one interface every LLM backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

from workers.types import Completion, GenerationParams, ModelSpec, Prompt


class LLMBackend(ABC):
    """Load a model once, generate for a whole group of prompts, unload.

    `generate` takes the full group so backends that can batch (llama.cpp sequences, vLLM)
    decode the prompts together.
    """

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec

    @abstractmethod
    def load(self) -> None:
        """Bring the model into memory. Raises BackendError with a clear message on failure."""

    @abstractmethod
    def generate(self, prompts: list[Prompt], params: GenerationParams) -> list[Completion]:
        """One completion per prompt, in order."""

    @abstractmethod
    def unload(self) -> None:
        """Release the model's memory."""

    def fits(self, prompt: Prompt) -> bool:
        """Whether the prompt fits the context window; backends that can count tokens override."""
        return True
