"""`ChatSymoe`: a LangChain chat model over symoe's OpenAI-compatible endpoint, so symoe
drops into existing chains (`prompt | ChatSymoe(...) | StrOutputParser()`).

It calls POST /v1/chat/completions with httpx, whole (`invoke`) or streamed (`stream`; see
orchestrator/api/openai/serving.py for what the server streams and when). Model `symoe`
(the default) answers the last human message with a recruited committee; earlier messages
are not used by the server. Naming an expert (`model="smollm2-135m"`) is a direct call with
every message. The answer's message carries the usage summed over every model call
(`usage_metadata`) and, in `response_metadata`, the query id and the full `symoe_trace`.
Needs `langchain-core`: pip install "symoe[langchain]".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

import httpx
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field, SecretStr


class SymoeAPIError(RuntimeError):
    """An error the server sent, in OpenAI's shape (before or during a stream)."""

    def __init__(
        self, status: int | None, message: str, type_: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(f"symoe error{f' {status}' if status else ''}: {message}")
        self.status = status
        self.message = message
        self.type = type_
        self.code = code

    @classmethod
    def from_body(cls, status: int | None, body: object) -> SymoeAPIError:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return cls(status, str(body)[:500])
        return cls(status, str(error.get("message")), error.get("type"), error.get("code"))


class ChatSymoe(BaseChatModel):
    """symoe as a LangChain chat model. Committee options (`k`, `aggregation`, `experts`,
    `aggregator`, `max_experts`) apply to model `symoe` only."""

    base_url: str = Field(
        default="http://127.0.0.1:8000", description="the server, with or without /v1"
    )
    api_key: SecretStr = Field(description="a symoe key (`symoe keys create`)")
    model: str = Field(default="symoe", description="'symoe' or an expert's name")
    k: int | None = None
    aggregation: Literal["llm", "vote", "weighted_vote"] | None = None
    experts: list[str] | None = None
    aggregator: str | None = None
    max_experts: int | None = None
    max_tokens: int | None = Field(default=None, description="caps the answer (and each call)")
    temperature: float | None = None
    seed: int | None = None
    timeout: float = Field(default=600.0, description="seconds per request")

    @property
    def _llm_type(self) -> str:
        return "symoe"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "model": self.model, **self._options()}

    # -- the request --------------------------------------------------------------------------
    def _options(self) -> dict[str, Any]:
        fields = ("k", "aggregation", "experts", "aggregator", "max_experts")
        return {f: getattr(self, f) for f in fields if getattr(self, f) is not None}

    def _body(
        self, messages: list[BaseMessage], stop: list[str] | None, stream: bool
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [_wire_message(m) for m in messages],
            "stream": stream,
        }
        if stream:
            body["stream_options"] = {"include_usage": True}
        for name in ("max_tokens", "temperature", "seed"):
            if getattr(self, name) is not None:
                body[name] = getattr(self, name)
        if stop:
            body["stop"] = stop
        if options := self._options():
            body["symoe"] = options
        return body

    def _client(self) -> httpx.Client:
        root = self.base_url.rstrip("/").removesuffix("/v1")
        return httpx.Client(
            base_url=root,
            headers={"Authorization": f"Bearer {self.api_key.get_secret_value()}"},
            timeout=self.timeout,
        )

    # -- whole --------------------------------------------------------------------------------
    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._client() as client:
            response = client.post("/v1/chat/completions", json=self._body(messages, stop, False))
        if response.status_code != 200:
            raise SymoeAPIError.from_body(response.status_code, _json_or_text(response))
        completion = response.json()
        choice = completion["choices"][0]
        usage = completion.get("usage") or {}
        message = AIMessage(
            content=choice["message"]["content"],
            id=completion["id"],
            usage_metadata=_usage(usage),
            response_metadata=_metadata(completion, choice.get("finish_reason")),
        )
        return ChatResult(
            generations=[ChatGeneration(message=message)],
            llm_output={"token_usage": usage, "model_name": completion["model"]},
        )

    # -- streamed -----------------------------------------------------------------------------
    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        body = self._body(messages, stop, True)
        with (
            self._client() as client,
            client.stream("POST", "/v1/chat/completions", json=body) as response,
        ):
            if response.status_code != 200:
                response.read()
                raise SymoeAPIError.from_body(response.status_code, _json_or_text(response))
            finish_reason: str | None = None
            for data in _sse_data(response.iter_lines()):
                if "error" in data:
                    raise SymoeAPIError.from_body(None, data)
                for choice in data.get("choices", []):
                    finish_reason = choice.get("finish_reason") or finish_reason
                    text = choice.get("delta", {}).get("content")
                    if text:
                        chunk = ChatGenerationChunk(
                            message=AIMessageChunk(content=text, id=data["id"])
                        )
                        if run_manager is not None:
                            run_manager.on_llm_new_token(text, chunk=chunk)
                        yield chunk
                if data.get("usage") is not None:  # the last chunk: usage and the trace
                    yield ChatGenerationChunk(
                        message=AIMessageChunk(
                            content="",
                            id=data["id"],
                            usage_metadata=_usage(data["usage"]),
                            response_metadata=_metadata(data, finish_reason),
                        )
                    )


def _wire_message(message: BaseMessage) -> dict[str, str]:
    if isinstance(message, HumanMessage):
        role = "user"
    elif isinstance(message, AIMessage):
        role = "assistant"
    elif isinstance(message, SystemMessage):
        role = "system"
    elif isinstance(message, ChatMessage) and message.role in ("user", "assistant", "system"):
        role = message.role
    else:
        raise ValueError(f"symoe takes system, human and AI messages, not {message.type!r}")
    return {"role": role, "content": _text(message.content)}


def _text(content: str | list[str | dict[str, Any]]) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        else:
            raise ValueError(f"symoe takes text content only, not {block.get('type')!r}")
    return "".join(parts)


def _usage(usage: dict[str, Any]) -> UsageMetadata:
    return UsageMetadata(
        input_tokens=int(usage.get("prompt_tokens", 0)),
        output_tokens=int(usage.get("completion_tokens", 0)),
        total_tokens=int(usage.get("total_tokens", 0)),
    )


def _metadata(body: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
    return {
        "model_name": body.get("model"),
        "finish_reason": finish_reason,
        "query_id": str(body.get("id", "")).removeprefix("chatcmpl-"),
        "symoe_trace": body.get("symoe_trace"),
    }


def _sse_data(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The JSON of each `data:` line until `[DONE]`; comments and other fields skipped."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line.removeprefix("data:").strip()
        if data == "[DONE]":
            return
        parsed = json.loads(data)
        if isinstance(parsed, dict):
            yield parsed


def _json_or_text(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return response.text
