"""What passes from preparing a chat completion to running it and answering: the validated
request (a committee query or a direct call) and what its run produced."""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.api.errors import ApiError
from orchestrator.api.openai.protocol import ChatCompletionRequest, Usage
from orchestrator.plan import BatchOptions, Query
from orchestrator.trace import BatchReport, Trace
from workers.types import GenerationParams, Prompt, TokenLogprob


@dataclass(frozen=True)
class DirectCall:
    expert: str
    prompt: Prompt
    params: GenerationParams


@dataclass(frozen=True)
class PreparedChat:
    """A validated request, ready to run: the committee's options or a direct call, and the
    notes its trace gets (what of the request went where)."""

    model: str
    query: Query
    options: BatchOptions | None
    direct: DirectCall | None
    include_usage: bool
    created: int
    notes: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"chatcmpl-{self.query.id}"


@dataclass(frozen=True)
class ChatOutcome:
    """A run's stored batch, and the answer's token log-probabilities when they were asked
    for (they are returned, not stored)."""

    report: BatchReport
    logprobs: list[TokenLogprob] | None = None


def sampling_update(
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


def answered(outcome: ChatOutcome) -> Trace:
    """The outcome's one trace; 503 when it has no answer (every expert failed)."""
    trace = outcome.report.traces[0]
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
