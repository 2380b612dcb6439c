"""Wire models of the OpenAI-compatible endpoints: chat completions (whole and streamed
chunks) and the model list, in OpenAI's shapes, plus symoe's extras (`symoe` options on the
request, `symoe_trace` on the response)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.api.answers.schemas import AnswerOptions
from orchestrator.trace import Trace

PIPELINE_MODEL = "symoe"


class TextPart(BaseModel):
    """The one content-part type symoe reads (images and audio are refused: 422)."""

    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")  # name, refusal, ...: not used

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """OpenAI's request body. Fields OpenAI defines and symoe does not use (top_p,
    presence_penalty, logit_bias, user, ...) are accepted and ignored; `n` > 1 and tools are
    refused, since symoe gives one answer and calls no tools."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, description="'symoe' (the committee) or an expert's name")
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1, description="length of the answer")
    max_completion_tokens: int | None = Field(default=None, ge=1, description="as max_tokens")
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    seed: int | None = None
    stop: str | list[str] | None = Field(default=None, description="direct expert calls only")
    n: int = Field(default=1, ge=1, le=1, description="symoe answers once")
    tools: list[dict[str, Any]] | None = Field(default=None, description="not supported")
    symoe: AnswerOptions | None = Field(
        default=None, description="committee options (model 'symoe' only), as in /v1/answers"
    )


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


FinishReason = Literal["stop", "length"]


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: FinishReason
    logprobs: None = None


class ChatCompletionResponse(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    symoe_trace: Trace = Field(description="the query's full trace (symoe's extra)")


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: FinishReason | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    symoe_trace: Trace | None = Field(default=None, description="on the last chunk only")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
