"""Server-sent events of a chat completion.

The client gets at once the first chunk (role `assistant`, empty content) and the
`X-Symoe-Query-Id` header; while the experts work, an SSE comment line (`: waiting`) every
few seconds (SSE clients skip comments; it keeps proxies from closing an idle connection);
then the answer's text as it is made: the aggregator's tokens as they are decoded (a direct
call: the expert's) when the runner streams (the in-process runner with llama.cpp; other
backends, and the Celery runner, hand over whole completions, which then arrive as one
content chunk), and a vote's answer in one piece; then a chunk with `finish_reason` (and a
direct call's `logprobs`, all of them, when asked for), then `usage` and `symoe_trace` (on
the finish chunk, or with `stream_options.include_usage` on a separate last chunk with no
choices, as OpenAI does), then `data: [DONE]`. The content chunks join to exactly the stored
answer. An error after the stream has started comes as one `data: {"error": {...}}` event
(the OpenAI SDK raises it) and ends the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from typing import Any

from pydantic import BaseModel

from orchestrator.api.errors import ERROR_TYPES, ApiError, ErrorBody, ErrorResponse
from orchestrator.api.openai.prepared import ChatOutcome, PreparedChat
from orchestrator.api.openai.protocol import (
    ChatCompletionChunk,
    ChoiceLogprobs,
    ChunkChoice,
    Delta,
    FinishReason,
    Usage,
)
from orchestrator.errors import BrokerUnreachableError, SymoeError, UnknownExpertError
from orchestrator.trace import Trace
from workers.types import BackendError

log = logging.getLogger(__name__)

_KEEPALIVE_S = 5.0


class TextFeed:
    """Answer text handed from the worker thread that makes it to the event loop that
    streams it (in order: each piece is queued on the loop by call_soon_threadsafe)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[str] = asyncio.Queue()

    def put(self, text: str) -> None:
        # a closed loop has nobody left to read: the batch goes on all the same
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.queue.put_nowait, text)


async def stream_events(
    chat: PreparedChat,
    future: Future[ChatOutcome],
    feed: TextFeed,
    answered: Callable[[ChatOutcome], Trace],
    finish_reason: Callable[[Trace], FinishReason],
    usage_of: Callable[[Trace], Usage],
) -> AsyncIterator[str]:
    """The events, as the module docstring describes."""
    waiting = asyncio.wrap_future(future)
    sent = ""
    try:
        yield _chunk(chat, [ChunkChoice(delta=Delta(role="assistant", content=""))])
        while True:
            piece = asyncio.ensure_future(feed.queue.get())
            either: set[asyncio.Future[Any]] = {piece, waiting}
            done, _ = await asyncio.wait(
                either, timeout=_KEEPALIVE_S, return_when=asyncio.FIRST_COMPLETED
            )
            if piece in done:
                sent += piece.result()
                yield _chunk(chat, [ChunkChoice(delta=Delta(content=piece.result()))])
                continue
            piece.cancel()
            if waiting in done:
                break
            yield ": waiting\n\n"
        while not feed.queue.empty():  # text queued before the batch finished
            text = feed.queue.get_nowait()
            sent += text
            yield _chunk(chat, [ChunkChoice(delta=Delta(content=text))])
        try:
            outcome = waiting.result()
            trace = answered(outcome)
        except Exception as exc:
            yield sse(ErrorResponse(error=error_body(exc)))
            return
        if trace.answer.startswith(sent) and len(trace.answer) > len(sent):
            rest = trace.answer[len(sent) :]
            yield _chunk(chat, [ChunkChoice(delta=Delta(content=rest))])
        elif not trace.answer.startswith(sent):  # only if an aggregator died mid-answer
            log.warning("chat %s: streamed text is not the stored answer", chat.id)
        logprobs = ChoiceLogprobs(content=outcome.logprobs) if outcome.logprobs else None
        finish = ChunkChoice(delta=Delta(), finish_reason=finish_reason(trace), logprobs=logprobs)
        if chat.include_usage:
            yield _chunk(chat, [finish])
            yield _chunk(chat, [], usage=usage_of(trace), trace=trace)
        else:
            yield _chunk(chat, [finish], usage=usage_of(trace), trace=trace)
        yield "data: [DONE]\n\n"
    finally:
        # A client that left mid-stream: the batch still finishes in its worker thread
        # and is stored; only its outcome goes unread here.
        waiting.add_done_callback(_consume)


def _chunk(
    chat: PreparedChat,
    choices: list[ChunkChoice],
    usage: Usage | None = None,
    trace: Trace | None = None,
) -> str:
    chunk = ChatCompletionChunk(
        id=chat.id,
        created=chat.created,
        model=chat.model,
        choices=choices,
        usage=usage,
        symoe_trace=trace,
    )
    return sse(chunk)


def sse(model: BaseModel) -> str:
    return f"data: {model.model_dump_json(exclude_none=True)}\n\n"


def error_body(exc: BaseException) -> ErrorBody:
    """The error shape for an exception raised after a stream has started (the app's
    handlers do the same for errors raised before)."""
    status, message, param, code = 500, f"internal error: {type(exc).__name__}", None, None
    if isinstance(exc, ApiError):
        status, message, param, code = exc.status, exc.message, exc.param, exc.code
    elif isinstance(exc, UnknownExpertError):
        status, message, code = 404, str(exc), "unknown_expert"
    elif isinstance(exc, BrokerUnreachableError):
        status, message, code = 503, str(exc), "broker_unreachable"
    elif isinstance(exc, SymoeError):
        status, message = 400, str(exc)
    elif isinstance(exc, BackendError):
        status, message, code = 503, str(exc), "backend_error"
    else:
        log.error("unhandled error in a chat stream", exc_info=exc)
    return ErrorBody(
        message=message, type=ERROR_TYPES.get(status, "api_error"), param=param, code=code
    )


def _consume(done: asyncio.Future[ChatOutcome]) -> None:
    if not done.cancelled():
        done.exception()  # read, so asyncio does not log it as never retrieved
