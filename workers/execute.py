"""Runs one group of prompts on one model through a pool: the work a runner does per group,
shared by the in-process runner and the Celery worker task."""

from __future__ import annotations

import time

from workers.pool import ModelPool
from workers.types import (
    BackendError,
    Completion,
    GenerationParams,
    GroupOutcome,
    ModelSpec,
    Prompt,
    PromptTooLongError,
    TextSink,
)


def execute_group(
    pool: ModelPool,
    spec: ModelSpec,
    params: GenerationParams,
    prompts: list[Prompt],
    prefetch: list[ModelSpec] | None = None,
    on_text: TextSink | None = None,
) -> GroupOutcome:
    """Acquire the model (loading it if needed), skip prompts that do not fit its context,
    and generate the rest in one call. Models in `prefetch` (the next groups' experts) start
    loading in the background while this group generates, where the budget has room.
    `on_text(prompt index, new text)` streams the completions as they are decoded."""
    started = time.perf_counter()
    outcome = GroupOutcome(completions=[])
    try:
        backend, outcome.loaded = pool.acquire(spec)
    except BackendError as exc:
        outcome.error = str(exc)
        outcome.completions = [None] * len(prompts)
        outcome.seconds = time.perf_counter() - started
        return outcome
    outcome.load_seconds = time.perf_counter() - started if outcome.loaded else 0.0
    for upcoming in prefetch or []:
        pool.prefetch(upcoming)
    fitting = [i for i, p in enumerate(prompts) if backend.fits(p)]
    completions: list[Completion | None] = [None] * len(prompts)
    errors: list[str | None] = [None] * len(prompts)
    for i in set(range(len(prompts))) - set(fitting):
        errors[i] = str(
            PromptTooLongError(
                f"prompt exceeds the context of {spec.n_ctx} tokens of expert {spec.name}"
            )
        )
    try:
        if fitting:
            batch = [prompts[i] for i in fitting]
            if on_text is None:
                outputs = backend.generate(batch, params)
            else:
                sink = on_text
                outputs = backend.generate_streaming(
                    batch, params, lambda j, text: sink(fitting[j], text)
                )
            for i, out in zip(fitting, outputs, strict=True):
                completions[i] = out
    except BackendError as exc:
        outcome.error = str(exc)
    outcome.completions = completions
    outcome.item_errors = errors
    outcome.seconds = time.perf_counter() - started
    return outcome
