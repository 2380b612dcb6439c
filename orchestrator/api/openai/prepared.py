"""What passes from preparing a chat completion to running it and answering: the validated
request (a committee query or a direct call) and what its run produced."""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.pipeline import BatchOptions, Query
from orchestrator.trace import BatchReport
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
