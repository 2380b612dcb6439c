"""The /v1/answers options as batch options, within the server's budgets (the one function
in orchestrator/options.py does the work; batch jobs and chat completions use it too)."""

from __future__ import annotations

from orchestrator.api.answers.schemas import AnswerOptions
from orchestrator.options import Budgets, RequestedOptions, batch_options
from orchestrator.plan import BatchOptions
from orchestrator.settings import Settings


def api_batch_options(settings: Settings, options: AnswerOptions) -> BatchOptions:
    """BatchOptions for a request; 400 (InputError) when it passes the server's budgets."""
    requested = RequestedOptions.model_validate(
        options.model_dump(include=set(RequestedOptions.model_fields))
    )
    return batch_options(settings, requested, Budgets.of(settings))
