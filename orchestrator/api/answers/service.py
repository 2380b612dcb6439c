"""Turns API options into pipeline options within the server's budgets, runs the pipeline
and records what the batch cost."""

from __future__ import annotations

from orchestrator.api.answers.schemas import AnswerOptions
from orchestrator.api.errors import ApiError
from orchestrator.api.services import ApiServices
from orchestrator.pipeline import BatchOptions, Query
from orchestrator.trace import BatchReport


def batch_options(services: ApiServices, options: AnswerOptions) -> BatchOptions:
    """BatchOptions for a request; 400 when it asks for more than the budgets allow."""
    s = services.settings
    within_budget("max_experts", options.max_experts, s.api_max_experts, "SYMOE_API_MAX_EXPERTS")
    k = options.k or s.k
    if options.max_experts is not None:
        within_budget("k", k, options.max_experts, "the request's max_experts")
    within_budget("k", k, s.api_max_experts, "SYMOE_API_MAX_EXPERTS")
    max_tokens = options.max_tokens or s.expert_max_tokens
    within_budget("max_tokens", max_tokens, s.api_max_tokens, "SYMOE_API_MAX_TOKENS")
    if options.retrieval == "auto":
        raise ApiError(
            400, "retrieval 'auto' needs a retriever; none is configured", param="retrieval"
        )
    registry = services.deployment.registry
    for name in [*(options.experts or []), *([options.aggregator] if options.aggregator else [])]:
        registry.get(name)  # UnknownExpertError -> 404 naming the known experts
    return BatchOptions(
        k=k,
        experts=options.experts,
        aggregator=options.aggregator,
        aggregation=options.aggregation or s.aggregation,
        expert_max_tokens=max_tokens,
        aggregator_max_tokens=min(s.aggregator_max_tokens, s.api_max_tokens),
    )


def within_budget(field: str, value: int | None, limit: int, source: str) -> None:
    """400 naming the field, the real limit and where it comes from when a value passes it:
    every per-request budget of every route (answers, jobs, chat) is checked here."""
    if value is not None and value > limit:
        unit = "tokens" if "tokens" in field else "experts"
        raise ApiError(
            400,
            f"{field}={value} exceeds the budget of {limit} {unit} per request ({source})",
            param=field,
        )


def answer_batch(services: ApiServices, questions: list[str], options: BatchOptions) -> BatchReport:
    """Answer, store the traces, count tokens and loads. Input errors raise before any work."""
    report = services.pipeline.run([Query(text=q) for q in questions], options)
    services.deployment.store.save_batch(report)
    services.metrics.observe_batch(report)
    return report
