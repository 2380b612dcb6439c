"""What /v1/answers does, and its options as batch options within the server's budgets (the
one function in orchestrator/options.py does the work; jobs and chat completions use it too)."""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.answering import AnsweringService
from orchestrator.api.answers.schemas import AnswerOptions, AnswerRequest
from orchestrator.api.metrics import Metrics
from orchestrator.options import Budgets, RequestedOptions, batch_options
from orchestrator.plan import BatchOptions, Query
from orchestrator.settings import Settings
from orchestrator.trace import BatchReport


def api_batch_options(settings: Settings, options: AnswerOptions) -> BatchOptions:
    """BatchOptions for a request; 400 (InputError) when it passes the server's budgets."""
    requested = RequestedOptions.model_validate(
        options.model_dump(include=set(RequestedOptions.model_fields))
    )
    return batch_options(settings, requested, Budgets.of(settings))


class AnswersService:
    """What POST /v1/answers does: one question through the answering service, counted in
    the queue depth while it runs (the answering service stores and counts the batch)."""

    def __init__(
        self, answering: Callable[[], AnsweringService], settings: Settings, metrics: Metrics
    ) -> None:
        self._answering = answering  # read per request: a profile activation replaces it
        self.settings = settings
        self.metrics = metrics

    def answer(self, body: AnswerRequest) -> BatchReport:
        options = api_batch_options(self.settings, body)
        self.metrics.queue_depth.inc()
        try:
            return self._answering().answer([Query(text=body.question)], options)
        finally:
            self.metrics.queue_depth.dec()
