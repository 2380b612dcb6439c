"""Runs one stage of a batch (tag, experts, aggregate): groups its prompts by model, hands
the groups to the runner and keeps the stage's timing and model loads for the trace."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pydantic import BaseModel

from orchestrator.experts import ExpertRegistry
from orchestrator.runners.base import Runner
from orchestrator.scheduler import StageRequest, group_by_model
from orchestrator.trace import ModelLoad, StageTiming
from workers.types import Completion, GenerationParams, ModelSpec


class StageItem(BaseModel):
    """What one request of a stage produced."""

    request: StageRequest
    completion: Completion | None
    error: str | None = None


log = logging.getLogger(__name__)

ParamsFor = Callable[[str], GenerationParams]
RequestTextSink = Callable[[StageRequest, str], None]


class StageExecutor:
    def __init__(self, runner: Runner, registry: ExpertRegistry) -> None:
        self.runner = runner
        self.registry = registry
        self.timings: list[StageTiming] = []
        self.loads: list[ModelLoad] = []

    def spec(self, expert: str) -> ModelSpec:
        return self.registry.get(expert).spec()

    def run_stage(
        self,
        stage: str,
        requests: list[StageRequest],
        params_for: ParamsFor,
        on_text: RequestTextSink | None = None,
    ) -> list[StageItem]:
        """Items in the order of `requests`. `on_text(request, new text)` streams each
        completion as it is decoded where the runner can, else once it is whole."""
        if not requests:
            return []
        started = time.perf_counter()
        names = sorted({r.expert for r in requests})
        groups = group_by_model(
            stage,
            requests,
            {n: self.spec(n) for n in names},
            {n: params_for(n) for n in names},
        )
        streamed = on_text is not None and self.runner.streams
        sink = None
        if streamed and on_text is not None:
            send = on_text

            def sink(g: int, i: int, text: str) -> None:
                try:
                    send(groups[g].requests[i], text)
                except Exception:  # a reader's failure must not fail the generation
                    log.exception("streaming %s text failed", stage)

        results = self.runner.run_groups(groups, sink)
        by_request: dict[tuple[str, int, str], StageItem] = {}
        loads = 0
        load_seconds = 0.0
        for group, result in zip(groups, results, strict=True):
            if result.loaded:
                loads += 1
                load_seconds += result.load_seconds
                self.loads.append(
                    ModelLoad(stage=stage, expert=result.expert, seconds=result.load_seconds)
                )
            errors = result.item_errors or [None] * len(group.requests)
            for req, comp, err in zip(group.requests, result.completions, errors, strict=True):
                error = err or (result.error if comp is None else None)
                by_request[(req.key, req.slot, req.expert)] = StageItem(
                    request=req, completion=comp, error=error
                )
        if on_text is not None and not streamed:
            for item in by_request.values():
                if item.completion is not None:
                    try:
                        on_text(item.request, item.completion.text)
                    except Exception:  # as when streaming: a reader's failure fails nothing
                        log.exception("streaming %s text failed", stage)
        self.timings.append(
            StageTiming(
                stage=stage,
                seconds=time.perf_counter() - started,
                groups=len(groups),
                loads=loads,
                load_seconds=load_seconds,
            )
        )
        return [by_request[(r.key, r.slot, r.expert)] for r in requests]
