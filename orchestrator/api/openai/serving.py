"""The OpenAI-compatible chat service, built once per app (`ApiServices.openai`).

Models. `symoe` plans and answers with a committee (tag, recruit, experts, aggregate): the
last user message is the question, and the system/developer messages and the earlier turns
go with it to every model call, experts and aggregator alike (messages.py, orchestrator/prompts.py).
Options go in the extra body field `symoe` (the /v1/answers options, within the same
budgets). The name of an enabled expert is a direct call (direct.py): the chat messages go
to that one model as they are. Every other field is honoured or refused with a 400 naming
it before any model runs (chat_fields.py; README has the table).

Work and disconnects. Each completion runs in this service's worker threads, submitted
before the response starts: the batch runs to its end and is stored in one transaction
whatever the client does, so a client that disconnects (streaming or not) leaves a whole
batch in the database, never half of one. Streaming: streaming.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor

from orchestrator.answering import AnsweringService
from orchestrator.api.answers.schemas import AnswerOptions
from orchestrator.api.answers.service import api_batch_options
from orchestrator.api.errors import ApiError
from orchestrator.api.metrics import Metrics
from orchestrator.api.openai import chat_fields
from orchestrator.api.openai.messages import committee_question, direct_messages
from orchestrator.api.openai.prepared import (
    ChatOutcome,
    DirectCall,
    PreparedChat,
    answered,
    sampling_update,
    usage_of,
)
from orchestrator.api.openai.protocol import (
    PIPELINE_MODEL,
    AssistantMessage,
    ChatCompletionRequest,
    ChatCompletionResponse,
    Choice,
    ChoiceLogprobs,
    FinishReason,
    ModelCard,
    ModelList,
)
from orchestrator.api.openai.streaming import TextFeed, stream_events
from orchestrator.errors import UnknownExpertError
from orchestrator.experts import ExpertRegistry
from orchestrator.options import within_budget
from orchestrator.plan import BatchOptions, DirectPrompt, Query
from orchestrator.settings import Settings
from orchestrator.trace import Trace
from workers.backends.formatting import TRANSCRIPT_NEXT_TURN
from workers.types import Prompt

log = logging.getLogger(__name__)

QUERY_ID_HEADER = "X-Symoe-Query-Id"
# Completions running at once in one process; more wait their turn. The micro-batching
# runner merges the groups of those running together, so this is also its fan-in.
_WORKERS = 32


class OpenAIServing:
    def __init__(
        self,
        answering: Callable[[], AnsweringService],
        registry: ExpertRegistry,
        settings: Settings,
        metrics: Metrics,
    ) -> None:
        self._answering = answering  # read per request: a profile activation replaces it
        self.registry = registry
        self.settings = settings
        self.metrics = metrics
        self.created = int(time.time())
        self._executor = ThreadPoolExecutor(_WORKERS, thread_name_prefix="symoe-chat")

    # -- models -------------------------------------------------------------------------------
    def models(self) -> ModelList:
        registry = self.registry
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
        chat_fields.refuse_unsupported(body)
        max_tokens = body.max_completion_tokens or body.max_tokens
        limit = self.settings.api_max_tokens
        within_budget("max_tokens", max_tokens, limit, "SYMOE_API_MAX_TOKENS")
        notes = [f"chat: user {body.user!r}"] if body.user is not None else []
        if body.model == PIPELINE_MODEL:
            question, conversation = committee_question(body.messages)
            fmt = "json" if chat_fields.json_schema(body) is not None else None
            query = Query(text=question, conversation=conversation, fmt=fmt)
            options, direct = self._committee(body, max_tokens, query), None
            if conversation.system or conversation.turns:
                notes.append(
                    f"chat: the system prompt ({len(conversation.system)} characters) and "
                    f"{len(conversation.turns)} earlier message(s) went to every model call"
                )
        else:
            question, messages = direct_messages(body.messages)
            query, options = Query(text=question), None
            direct = self._direct_call(
                body, max_tokens, Prompt(messages=messages, question=question)
            )
        return PreparedChat(
            model=body.model,
            query=query,
            options=options,
            direct=direct,
            include_usage=bool(body.stream_options and body.stream_options.include_usage),
            created=int(time.time()),
            notes=notes,
        )

    def _committee(
        self, body: ChatCompletionRequest, max_tokens: int | None, query: Query
    ) -> BatchOptions:
        if body.stop:
            raise ApiError(
                400,
                f"stop sequences apply to direct expert calls, not to {PIPELINE_MODEL!r}",
                param="stop",
            )
        requested = body.symoe or AnswerOptions()
        if max_tokens is not None and requested.max_tokens is None:
            requested = requested.model_copy(update={"max_tokens": max_tokens})
        options = api_batch_options(self.settings, requested)
        update: dict[str, object] = {"overrides": chat_fields.overrides(body)}
        update |= sampling_update(body, max_tokens, "aggregator_max_tokens")
        options = options.model_copy(update=update)
        planner = self._answering().planner
        callable_experts = planner.validate([query], options)
        if planner.aggregators[planner.aggregation_for(options)].uses_model:
            aggregators = [e.name for e in self.registry.with_role("aggregator") if e.enabled]
            callable_experts += [options.aggregator] if options.aggregator else aggregators
        chat_fields.check_backends(
            self.registry,
            callable_experts,
            chat_fields.requested_features(body),
            options.overrides.json_schema,
        )
        return options

    def _direct_call(
        self, body: ChatCompletionRequest, max_tokens: int | None, prompt: Prompt
    ) -> DirectCall:
        registry = self.registry
        try:
            expert = registry.get(body.model)
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
        chat_fields.check_backends(
            registry,
            [expert.name],
            chat_fields.requested_features(body),
            chat_fields.json_schema(body),
        )
        update = sampling_update(body, max_tokens, "max_tokens") | chat_fields.direct_update(body)
        params = expert.generation_params()
        if body.stop:
            update["stop"] = [body.stop] if isinstance(body.stop, str) else body.stop
        elif expert.chat_format == "completion":  # a transcript's next turn is not the answer
            update["stop"] = [*params.stop, TRANSCRIPT_NEXT_TURN]
        return DirectCall(
            expert=expert.name, prompt=prompt, params=params.model_copy(update=update)
        )

    # -- running (worker threads: runs to the end and stores whatever the client does) --------
    def submit(self, chat: PreparedChat, feed: TextFeed | None = None) -> Future[ChatOutcome]:
        metrics = self.metrics
        metrics.queue_depth.inc()
        try:
            return self._executor.submit(self._run, chat, feed)
        except RuntimeError:  # shut down
            metrics.queue_depth.dec()
            raise ApiError(503, "the server is shutting down") from None

    def _run(self, chat: PreparedChat, feed: TextFeed | None = None) -> ChatOutcome:
        """Answer, store and count through the answering service (a direct call is a
        one-expert plan on the same path)."""
        answering = self._answering()
        on_text = (lambda _query, text: feed.put(text)) if feed is not None else None
        try:
            if chat.direct is not None:
                call = chat.direct
                direct = DirectPrompt(prompt=call.prompt, params=call.params)
                report = answering.answer_direct(
                    chat.query, call.expert, direct, on_text, chat.notes
                )
                calls = report.traces[0].calls
                return ChatOutcome(report, calls[0].logprobs if calls else None)
            assert chat.options is not None
            return ChatOutcome(answering.answer([chat.query], chat.options, on_text, chat.notes))
        except Exception as exc:
            log.warning("chat completion %s failed: %s: %s", chat.id, type(exc).__name__, exc)
            raise
        finally:
            self.metrics.queue_depth.dec()

    # -- answering ----------------------------------------------------------------------------
    async def complete(
        self, chat: PreparedChat, future: Future[ChatOutcome]
    ) -> ChatCompletionResponse:
        outcome = await asyncio.shield(asyncio.wrap_future(future))
        trace = answered(outcome)
        logprobs = ChoiceLogprobs(content=outcome.logprobs) if outcome.logprobs else None
        return ChatCompletionResponse(
            id=chat.id,
            created=chat.created,
            model=chat.model,
            choices=[
                Choice(
                    message=AssistantMessage(content=trace.answer),
                    finish_reason=self._finish_reason(chat, trace),
                    logprobs=logprobs,
                )
            ],
            usage=usage_of(trace),
            symoe_trace=trace,
        )

    def stream(
        self, chat: PreparedChat, future: Future[ChatOutcome], feed: TextFeed
    ) -> AsyncIterator[str]:
        """Server-sent events (streaming.py)."""
        return stream_events(
            chat, future, feed, answered, lambda t: self._finish_reason(chat, t), usage_of
        )

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
            generation = self.registry.get(final.expert).generation
            limit = chat.options.aggregator_max_tokens or generation.max_tokens
        return "length" if final is not None and final.completion_tokens >= limit else "stop"

    def close(self) -> None:
        """Waits for the completions in flight, so their batches are stored."""
        self._executor.shutdown(wait=True)
