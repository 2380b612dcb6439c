"""The one answering service below every entry point (CLI ask, POST /v1/answers, chat
completions, batch jobs, eval): plan a batch, execute the plans, store the batch and count
it. A direct expert call is a one-expert plan through the same path."""

from __future__ import annotations

import time
from collections.abc import Callable

from orchestrator.execution import AnswerTextSink, PlanExecutor
from orchestrator.plan import BatchOptions, DirectPrompt, Plan, Query
from orchestrator.planner import Planner, direct_plan
from orchestrator.stages import StageExecutor
from orchestrator.trace import BatchReport

SaveBatch = Callable[[BatchReport], None]
ObserveBatch = Callable[[BatchReport], None]


class AnsweringService:
    """`save` stores a batch in one transaction (none: the caller stores it, as batch jobs
    do with their items, or keeps no database, as eval does); `observe` counts it (metrics)."""

    def __init__(
        self,
        planner: Planner,
        executor: PlanExecutor,
        save: SaveBatch | None = None,
        observe: ObserveBatch | None = None,
    ) -> None:
        self.planner = planner
        self.executor = executor
        self._save = save
        self._observe = observe

    def validate(self, queries: list[Query], options: BatchOptions) -> list[str]:
        """Input checks that need no model (InputError); the candidate pool."""
        return self.planner.validate(queries, options)

    def answer(
        self,
        queries: list[Query],
        options: BatchOptions,
        on_answer_text: AnswerTextSink | None = None,
        notes: list[str] | None = None,
        record: bool = True,
    ) -> BatchReport:
        """Answer a batch: plan, execute, store, count. Input errors raise before any model
        runs; `notes` go on every trace (what of the request went where). `record=False`
        leaves storing and counting to the caller (a batch job stores its items with it)."""
        started = time.perf_counter()
        stages = self.executor.new_stages()
        plans = self.planner.plan(queries, options, stages)
        report = self.executor.execute(plans, options, stages, on_answer_text, started)
        return self._finish(report, notes, record)

    def answer_direct(
        self,
        query: Query,
        expert: str,
        direct: DirectPrompt,
        on_answer_text: AnswerTextSink | None = None,
        notes: list[str] | None = None,
    ) -> BatchReport:
        """One expert answers `direct.prompt` as it is: no tagging, no recruiting."""
        messages = len(direct.prompt.messages)
        plan = direct_plan(
            query, expert, direct, [f"direct call: {messages} message(s) to {expert}"]
        )
        options = BatchOptions(k=1, aggregation=plan.aggregation, replace_failed=False)
        return self.execute([plan], options, on_answer_text, notes)

    def execute(
        self,
        plans: list[Plan],
        options: BatchOptions,
        on_answer_text: AnswerTextSink | None = None,
        notes: list[str] | None = None,
    ) -> BatchReport:
        stages: StageExecutor = self.executor.new_stages()
        report = self.executor.execute(plans, options, stages, on_answer_text)
        return self._finish(report, notes, record=True)

    def _finish(self, report: BatchReport, notes: list[str] | None, record: bool) -> BatchReport:
        for trace in report.traces:
            trace.recruitment.notes.extend(notes or [])
        if record and self._save is not None:
            self._save(report)
        if record and self._observe is not None:
            self._observe(report)
        return report
