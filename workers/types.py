"""The data-plane contract: what a group of prompts is and what comes back (`GroupOutcome`).

These are small, JSON-serialisable pydantic models, so the same objects travel in-process
and as Celery payloads. They carry names, prompts and sampling parameters, never a path on
the orchestrator's disk: a worker resolves model and data paths from its own settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

ChatFormat = Literal["chat", "completion"]
# What a backend may or may not do beyond plain sampling (see GenerationParams).
BackendFeature = Literal["penalties", "json_schema", "logprobs"]


class ModelSpec(BaseModel):
    """Everything a backend needs to load one model; nothing about skills or profiles."""

    name: str
    backend: str
    model: str = Field(description="path, package reference (pkg:...) or model id")
    chat_format: ChatFormat = "chat"
    n_ctx: int = Field(default=2048, ge=64)
    memory_mb: int = Field(default=512, ge=0, description="resident footprint for the pool budget")
    options: dict[str, object] = Field(default_factory=dict)


class Message(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class Prompt(BaseModel):
    """One request to a model. `question` and `question_id` let the replay backend find a
    recording; live backends only read `messages`."""

    messages: list[Message]
    question: str | None = None
    question_id: str | None = None

    @classmethod
    def user(cls, text: str, system: str | None = None, **meta: str | None) -> Prompt:
        msgs = [Message(role="system", content=system)] if system else []
        msgs.append(Message(role="user", content=text))
        return cls(messages=msgs, **meta)


class GenerationParams(BaseModel):
    """How to decode. Backends declare which of the optional features they honour
    (`LLMBackend.features`); the orchestrator refuses a request a backend cannot honour."""

    max_tokens: int = Field(default=128, ge=1, le=32768)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    seed: int = Field(default=0, ge=-(2**63), le=2**63 - 1)  # llama.cpp uses its low 32 bits
    stop: list[str] = Field(default_factory=list)
    # feature "penalties": OpenAI's, over the tokens generated so far
    presence_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    frequency_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    # feature "json_schema": the output is JSON matching this schema ({"type": "object"}: any
    # JSON object)
    json_schema: dict[str, Any] | None = None
    # feature "logprobs": each generated token's log-probability and the n most likely
    # tokens at its place (None: no log-probabilities)
    logprobs: int | None = Field(default=None, ge=0, le=20)


class TopLogprob(BaseModel):
    """A token and its log-probability (OpenAI's shape: `bytes` are its UTF-8 bytes)."""

    token: str
    logprob: float
    bytes: list[int] | None = None


class TokenLogprob(TopLogprob):
    """A generated token, with the most likely tokens at its place."""

    top_logprobs: list[TopLogprob] = Field(default_factory=list)


class Completion(BaseModel):
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    logprobs: list[TokenLogprob] | None = Field(
        default=None, description="one per generated token, when the params asked for them"
    )

    @field_validator("text")
    @classmethod
    def _nul_replaced(cls, text: str) -> str:
        # A model can emit NUL, which PostgreSQL cannot store: refusing it would lose the
        # whole batch's answers, so it becomes U+FFFD like any undecodable byte.
        return text.replace("\x00", "\ufffd")


class GroupOutcome(BaseModel):
    """What one group produced; a failing group is reported here, never raised."""

    completions: list[Completion | None] = Field(description="aligned with the prompts")
    item_errors: list[str | None] = Field(default_factory=list)
    loaded: bool = False
    load_seconds: float = 0.0
    seconds: float = 0.0
    error: str | None = Field(default=None, description="the whole group failed")


# (prompt index, new text): how a backend hands out text as it decodes it
TextSink = Callable[[int, str], None]


class BackendError(RuntimeError):
    """A backend could not serve a request; the message is meant for the user."""


class PromptTooLongError(BackendError):
    """The prompt does not fit the model's context window."""
