"""Wire models of the OpenAI-compatible endpoints: chat completions (whole and streamed
chunks) and the model list, in OpenAI's shapes, plus symoe's extras (`symoe` options on the
request, `symoe_trace` on the response)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from orchestrator.api.answers.schemas import AnswerOptions
from orchestrator.trace import Trace
from workers.types import TokenLogprob

PIPELINE_MODEL = "symoe"

# OpenAI's content-part types that carry something other than text
_NOT_TEXT = {"image_url": "image", "input_audio": "audio", "file": "file"}


class TextPart(BaseModel):
    """The one content-part type symoe reads (images, audio and files are refused: 422)."""

    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")  # name, refusal: not used

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None
    tool_calls: list[dict[str, Any]] | None = Field(default=None, description="refused")
    function_call: dict[str, Any] | None = Field(default=None, description="refused")
    audio: dict[str, Any] | None = Field(default=None, description="refused")

    @field_validator("content", mode="before")
    @classmethod
    def _text_parts_only(cls, value: object) -> object:
        """Names what is not supported, instead of pydantic's "should be a valid string"."""
        for part in value if isinstance(value, list) else []:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind is not None and kind != "text":
                what = _NOT_TEXT.get(str(kind), f"content part type {kind!r}")
                raise PydanticCustomError(
                    "unsupported_content",
                    "{what} input is not supported: symoe reads text parts only",
                    {"what": what},
                )
        return value

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class StreamOptions(BaseModel):
    include_usage: bool = False


class JsonSchemaFormat(BaseModel):
    name: str = Field(default="response", max_length=64)
    description: str | None = None
    schema_: dict[str, Any] = Field(
        default_factory=dict, alias="schema", description="a JSON schema ({}: any JSON)"
    )
    strict: bool | None = Field(default=None, description="always strict: decoding is constrained")

    model_config = ConfigDict(populate_by_name=True)


class TextFormat(BaseModel):
    type: Literal["text"]


class JsonObjectFormat(BaseModel):
    type: Literal["json_object"]


class JsonSchemaResponseFormat(BaseModel):
    type: Literal["json_schema"]
    json_schema: JsonSchemaFormat


ResponseFormat = Annotated[
    TextFormat | JsonObjectFormat | JsonSchemaResponseFormat, Field(discriminator="type")
]


class ChatCompletionRequest(BaseModel):
    """OpenAI's request body. Every field is honoured or refused with a 400 naming it (see
    chat_fields.py and README's table): other OpenAI fields (tools, logit_bias, audio, ...)
    are refused unless set to a value that asks nothing, and so are unknown fields."""

    model_config = ConfigDict(extra="allow")  # checked by chat_fields.refuse_unsupported

    model: str = Field(min_length=1, description="'symoe' (the committee) or an expert's name")
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1, description="length of the answer")
    max_completion_tokens: int | None = Field(default=None, ge=1, description="as max_tokens")
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    presence_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    frequency_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    seed: int | None = Field(default=None, ge=-(2**63), le=2**63 - 1, description="int64")
    stop: str | list[str] | None = Field(default=None, description="direct expert calls only")
    n: int = Field(default=1, ge=1, le=1, description="symoe answers once")
    response_format: ResponseFormat | None = Field(
        default=None, description="json_object or json_schema: decoding is constrained to it"
    )
    logprobs: bool | None = Field(default=None, description="direct expert calls only")
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    user: str | None = Field(default=None, description="noted in the trace")
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


class ChoiceLogprobs(BaseModel):
    content: list[TokenLogprob] | None = None
    refusal: None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: FinishReason
    logprobs: ChoiceLogprobs | None = None


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
    logprobs: ChoiceLogprobs | None = None


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
