"""The OpenAI-compatible chat service, built once per app (`ApiServices.openai`).

Models. `symoe` runs the whole pipeline (tag, recruit, experts, aggregate) on the last user
message: that message is the question, and earlier messages (system prompts, previous turns)
are not used; the trace's plan notes say how many were left out. Options go in the extra body
field `symoe` (the /v1/answers options, within the same budgets). `max_tokens` (or
`max_completion_tokens`) caps the answer, so both the aggregator's and each expert's call
(unless `symoe.max_tokens` sets the experts' apart); `temperature` and `seed` apply to the
expert calls. The name of an enabled expert is a direct call: the chat messages go to that one
model as they are (system and earlier turns included; `stop`, `temperature`, `seed` and
`max_tokens` apply), as a group of one through the same runner and model pool, and the call
is stored as a batch of one like any other.

Work and disconnects. Each completion runs in this service's worker threads, submitted
before the response starts: the batch runs to its end and is stored in one transaction
whatever the client does, so a client that disconnects (streaming or not) leaves a whole
batch in the database, never half of one.

What streaming does, exactly. With `stream: true` the client gets at once the first chunk
(role `assistant`, empty content) and the `X-Symoe-Query-Id` header; while the experts work,
an SSE comment line (`: waiting`) every few seconds (SSE clients skip comments; it keeps
proxies from closing an idle connection); then the answer's text as it is made: the
aggregator's tokens as they are decoded (a direct call: the expert's) when the runner streams
(the in-process runner with llama.cpp; other backends, and the Celery runner, hand over whole
completions, which then arrive as one content chunk), and a vote's answer in one piece; then
a chunk with `finish_reason`, then `usage` and `symoe_trace` (on the finish chunk, or with
`stream_options.include_usage` on a separate last chunk with no choices, as OpenAI does),
then `data: [DONE]`. The content chunks join to exactly the stored answer. An error after the
stream has started comes as one `data: {"error": {...}}` event (the OpenAI SDK raises it) and
ends the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from orchestrator.answers import detect_format, extract
from orchestrator.api.answers.schemas import AnswerOptions
from orchestrator.api.answers.service import batch_options
from orchestrator.api.errors import ERROR_TYPES, ApiError, ErrorBody, ErrorResponse
from orchestrator.api.openai.protocol import (
    PIPELINE_MODEL,
    AssistantMessage,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    Choice,
    ChunkChoice,
    Delta,
    FinishReason,
    ModelCard,
    ModelList,
    Usage,
)
from orchestrator.errors import BrokerUnreachableError, SymoeError, UnknownExpertError
from orchestrator.pipeline import BatchOptions, Query
from orchestrator.scheduler import StageRequest
from orchestrator.trace import BatchReport, ModelCall, Recruitment, SkillTagging, Trace
from workers.types import BackendError, GenerationParams, Message, Prompt

if TYPE_CHECKING:
    from orchestrator.api.services import ApiServices

log = logging.getLogger(__name__)

QUERY_ID_HEADER = "X-Symoe-Query-Id"
# Completions running at once in one process; more wait their turn. The micro-batching
# runner merges the groups of those running together, so this is also its fan-in.
_WORKERS = 32
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


@dataclass(frozen=True)
class DirectCall:
    expert: str
    prompt: Prompt
    params: GenerationParams


@dataclass(frozen=True)
class PreparedChat:
    """A validated request, ready to run: the committee's options or a direct call."""

    model: str
    query: Query
    options: BatchOptions | None
    direct: DirectCall | None
    unused_messages: int
    include_usage: bool
    created: int

    @property
    def id(self) -> str:
        return f"chatcmpl-{self.query.id}"


class OpenAIServing:
    def __init__(self, services: ApiServices) -> None:
        self.services = services
        self.created = int(time.time())
        self._executor = ThreadPoolExecutor(_WORKERS, thread_name_prefix="symoe-chat")

    # -- models -------------------------------------------------------------------------------
    def models(self) -> ModelList:
        registry = self.services.deployment.registry
        cards = [ModelCard(id=PIPELINE_MODEL, created=self.created, owned_by="symoe")]
        cards += [
            ModelCard(id=e.name, created=self.created, owned_by=e.backend)
            for e in registry.all()
            if e.enabled
        ]
        return ModelList(data=cards)

    def model(self, name: str) -> ModelCard:
        for card in self.models().data:
            if card.id == name:
                return card
        raise self._unknown_model(name)

    def _unknown_model(self, name: str) -> ApiError:
        known = ", ".join(card.id for card in self.models().data)
        return ApiError(
            404,
            f"model {name!r} does not exist or is disabled (known: {known})",
            param="model",
            code="model_not_found",
        )

    # -- preparing a request (no model runs; every input error is raised here) ----------------
    def prepare(self, body: ChatCompletionRequest) -> PreparedChat:
        if body.tools:
            raise ApiError(400, "tools are not supported: symoe calls no tools", param="tools")
        users = [m for m in body.messages if m.role == "user"]
        if not users or not users[-1].text().strip():
            raise ApiError(400, "messages: the last user message must have text", param="messages")
        query = Query(text=users[-1].text())
        max_tokens = body.max_completion_tokens or body.max_tokens
        if max_tokens is not None and max_tokens > self.services.settings.api_max_tokens:
            raise ApiError(
                400,
                f"max_tokens={max_tokens} exceeds the server's budget of "
                f"{self.services.settings.api_max_tokens}",
                param="max_tokens",
            )
        options, direct, unused = None, None, 0
        if body.model == PIPELINE_MODEL:
            options = self._committee(body, max_tokens)
            self.services.pipeline.validate([query], options)
            unused = len(body.messages) - 1
        else:
            direct = self._direct_call(body, max_tokens, query.text)
        return PreparedChat(
            model=body.model,
            query=query,
            options=options,
            direct=direct,
            unused_messages=unused,
            include_usage=bool(body.stream_options and body.stream_options.include_usage),
            created=int(time.time()),
        )

    def _committee(self, body: ChatCompletionRequest, max_tokens: int | None) -> BatchOptions:
        if body.stop:
            raise ApiError(
                400,
                f"stop sequences apply to direct expert calls, not to {PIPELINE_MODEL!r}",
                param="stop",
            )
        requested = body.symoe or AnswerOptions()
        if max_tokens is not None and requested.max_tokens is None:
            requested = requested.model_copy(update={"max_tokens": max_tokens})
        options = batch_options(self.services, requested)
        update = _sampling(body, max_tokens, "aggregator_max_tokens")
        return options.model_copy(update=update) if update else options

    def _direct_call(
        self, body: ChatCompletionRequest, max_tokens: int | None, question: str
    ) -> DirectCall:
        try:
            expert = self.services.deployment.registry.get(body.model)
        except UnknownExpertError:
            raise self._unknown_model(body.model) from None
        if not expert.enabled:
            raise self._unknown_model(body.model)
        if body.symoe is not None:
            raise ApiError(
                400,
                f"symoe options apply to model {PIPELINE_MODEL!r}, not to a direct call",
                param="symoe",
            )
        update = _sampling(body, max_tokens, "max_tokens")
        if body.stop:
            update["stop"] = [body.stop] if isinstance(body.stop, str) else body.stop
        messages = [
            Message(role="system" if m.role == "developer" else m.role, content=m.text())
            for m in body.messages
        ]
        return DirectCall(
            expert=expert.name,
            prompt=Prompt(messages=messages, question=question),
            params=expert.generation.model_copy(update=update),
        )

    # -- running (worker threads: runs to the end and stores whatever the client does) --------
    def submit(self, chat: PreparedChat, feed: TextFeed | None = None) -> Future[BatchReport]:
        metrics = self.services.metrics
        metrics.queue_depth.inc()
        try:
            return self._executor.submit(self._run, chat, feed)
        except RuntimeError:  # shut down
            metrics.queue_depth.dec()
            raise ApiError(503, "the server is shutting down") from None

    def _run(self, chat: PreparedChat, feed: TextFeed | None = None) -> BatchReport:
        services = self.services
        try:
            if chat.direct is not None:
                report = self._run_direct(chat.query, chat.direct, feed)
            else:
                assert chat.options is not None
                report = services.pipeline.run(
                    [chat.query],
                    chat.options,
                    (lambda _query, text: feed.put(text)) if feed is not None else None,
                )
                if chat.unused_messages:
                    report.traces[0].recruitment.notes.append(
                        f"chat: {chat.unused_messages} earlier message(s) not used; "
                        f"{PIPELINE_MODEL!r} answers the last user message"
                    )
            services.deployment.store.save_batch(report)
            services.metrics.observe_batch(report)
            return report
        except Exception as exc:
            log.warning("chat completion %s failed: %s: %s", chat.id, type(exc).__name__, exc)
            raise
        finally:
            services.metrics.queue_depth.dec()

    def _run_direct(
        self, query: Query, call: DirectCall, feed: TextFeed | None = None
    ) -> BatchReport:
        started = time.perf_counter()
        stages = self.services.deployment.new_stages(self.services.runner)
        request = StageRequest(key=query.id, expert=call.expert, prompt=call.prompt)
        (item,) = stages.run(
            "experts",
            [request],
            lambda _: call.params,
            (lambda _request, text: feed.put(text)) if feed is not None else None,
        )
        batch_id = uuid.uuid4().hex
        trace = Trace(
            query_id=query.id,
            batch_id=batch_id,
            question=query.text,
            tagging=SkillTagging(method="direct", notes=["direct call: no skill tagging"]),
            recruitment=Recruitment(
                recruiter="direct",
                profile_set=None,
                drawn=[call.expert],
                aggregation="direct",
                notes=[f"direct call: {len(call.prompt.messages)} message(s) to {call.expert}"],
            ),
        )
        c = item.completion
        if c is None:
            trace.error = f"{call.expert} failed: {item.error or 'no output'}"
        else:
            extracted = extract(c.text, detect_format(query.text))
            trace.calls.append(
                ModelCall(
                    stage="experts",
                    expert=call.expert,
                    text=c.text,
                    prompt_tokens=c.prompt_tokens,
                    completion_tokens=c.completion_tokens,
                    seconds=c.seconds,
                    extracted=extracted,
                )
            )
            trace.answer, trace.extracted_answer = c.text, extracted
        elapsed = time.perf_counter() - started
        trace.seconds, trace.stages = elapsed, stages.timings
        return BatchReport(
            batch_id=batch_id,
            traces=[trace],
            stages=stages.timings,
            loads=stages.loads,
            seconds=elapsed,
        )

    # -- answering ----------------------------------------------------------------------------
    async def complete(
        self, chat: PreparedChat, future: Future[BatchReport]
    ) -> ChatCompletionResponse:
        report = await asyncio.shield(asyncio.wrap_future(future))
        trace = answered(report)
        return ChatCompletionResponse(
            id=chat.id,
            created=chat.created,
            model=chat.model,
            choices=[
                Choice(
                    message=AssistantMessage(content=trace.answer),
                    finish_reason=self._finish_reason(chat, trace),
                )
            ],
            usage=usage_of(trace),
            symoe_trace=trace,
        )

    async def stream(
        self, chat: PreparedChat, future: Future[BatchReport], feed: TextFeed
    ) -> AsyncIterator[str]:
        """Server-sent events, as the module docstring describes."""
        waiting = asyncio.wrap_future(future)
        sent = ""
        try:
            yield self._chunk(chat, [ChunkChoice(delta=Delta(role="assistant", content=""))])
            while True:
                piece = asyncio.ensure_future(feed.queue.get())
                either: set[asyncio.Future[Any]] = {piece, waiting}
                done, _ = await asyncio.wait(
                    either, timeout=_KEEPALIVE_S, return_when=asyncio.FIRST_COMPLETED
                )
                if piece in done:
                    sent += piece.result()
                    yield self._chunk(chat, [ChunkChoice(delta=Delta(content=piece.result()))])
                    continue
                piece.cancel()
                if waiting in done:
                    break
                yield ": waiting\n\n"
            while not feed.queue.empty():  # text queued before the batch finished
                text = feed.queue.get_nowait()
                sent += text
                yield self._chunk(chat, [ChunkChoice(delta=Delta(content=text))])
            try:
                trace = answered(waiting.result())
            except Exception as exc:
                yield sse(ErrorResponse(error=error_body(exc)))
                return
            if trace.answer.startswith(sent) and len(trace.answer) > len(sent):
                rest = trace.answer[len(sent) :]
                yield self._chunk(chat, [ChunkChoice(delta=Delta(content=rest))])
            elif not trace.answer.startswith(sent):  # only if an aggregator died mid-answer
                log.warning("chat %s: streamed text is not the stored answer", chat.id)
            finish = ChunkChoice(delta=Delta(), finish_reason=self._finish_reason(chat, trace))
            if chat.include_usage:
                yield self._chunk(chat, [finish])
                yield self._chunk(chat, [], usage=usage_of(trace), trace=trace)
            else:
                yield self._chunk(chat, [finish], usage=usage_of(trace), trace=trace)
            yield "data: [DONE]\n\n"
        finally:
            # A client that left mid-stream: the batch still finishes in its worker thread
            # and is stored; only its outcome goes unread here.
            waiting.add_done_callback(_consume)

    def _chunk(
        self,
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

    def _finish_reason(self, chat: PreparedChat, trace: Trace) -> FinishReason:
        """`length` when the call that wrote the answer used every token it was allowed."""
        if chat.direct is not None:
            final = trace.calls[0] if trace.calls else None
            limit = chat.direct.params.max_tokens
        else:
            final = next((c for c in trace.calls if c.stage == "aggregate"), None)
            if final is None:  # a vote wrote the answer, or the aggregator failed
                return "stop"
            assert chat.options is not None
            generation = self.services.deployment.registry.get(final.expert).generation
            limit = chat.options.aggregator_max_tokens or generation.max_tokens
        return "length" if final is not None and final.completion_tokens >= limit else "stop"

    def close(self) -> None:
        """Waits for the completions in flight, so their batches are stored."""
        self._executor.shutdown(wait=True)


def _sampling(
    body: ChatCompletionRequest, max_tokens: int | None, max_tokens_field: str
) -> dict[str, object]:
    """The request's sampling fields that were set, as a model_copy update."""
    update: dict[str, object] = {}
    if max_tokens is not None:
        update[max_tokens_field] = max_tokens
    if body.temperature is not None:
        update["temperature"] = body.temperature
    if body.seed is not None:
        update["seed"] = body.seed
    return update


def answered(report: BatchReport) -> Trace:
    """The report's one trace; 503 when it has no answer (every expert failed)."""
    trace = report.traces[0]
    if trace.error is not None:
        raise ApiError(
            503, f"no answer for query {trace.query_id}: {trace.error}", code="experts_failed"
        )
    return trace


def usage_of(trace: Trace) -> Usage:
    """Tokens summed over every model call of the query (experts and aggregator)."""
    prompt, completion = trace.prompt_tokens, trace.completion_tokens
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


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


def _consume(done: asyncio.Future[BatchReport]) -> None:
    if not done.cancelled():
        done.exception()  # read, so asyncio does not log it as never retrieved
