"""Builds a batch's traces in one place, from structured events: the plans, each model call,
each failure and replacement, each answer. Events are kept as `TraceEvent`s (what statistics
count) and also written as notes (what a person reads)."""

from __future__ import annotations

import uuid

from orchestrator.answers import extract
from orchestrator.plan import Plan
from orchestrator.stages import StageItem
from orchestrator.trace import BatchReport, ModelCall, ModelLoad, StageTiming, Trace, TraceEvent


class TraceBuilder:
    def __init__(self, plans: list[Plan]) -> None:
        self.batch_id = uuid.uuid4().hex
        self.plans = {p.query.id: p for p in plans}
        self.traces = [
            Trace(
                query_id=p.query.id,
                batch_id=self.batch_id,
                question=p.query.text,
                tagging=p.tagging,
                retrieval=p.retrieval,
                recruitment=p.recruitment,
            )
            for p in plans
        ]
        self._by_id = {t.query_id: t for t in self.traces}

    def trace(self, query_id: str) -> Trace:
        return self._by_id[query_id]

    # -- events -------------------------------------------------------------------------------
    def stage_items(self, stage: str, items: list[StageItem]) -> None:
        """Each answered item becomes a ModelCall; each failed one an `expert_failed` event."""
        for item in items:
            req, trace = item.request, self._by_id[item.request.key]
            c = item.completion
            if c is None:
                error = item.error or "no output"
                self._event(
                    trace,
                    TraceEvent(
                        kind="expert_failed",
                        stage=stage,
                        expert=req.expert,
                        slot=req.slot,
                        error=error,
                    ),
                    f"{stage}: {req.expert} failed: {error}",
                )
                continue
            trace.calls.append(
                ModelCall(
                    stage=stage,
                    expert=req.expert,
                    slot=req.slot,
                    text=c.text,
                    prompt_tokens=c.prompt_tokens,
                    completion_tokens=c.completion_tokens,
                    seconds=c.seconds,
                    extracted=extract(c.text, self.plans[req.key].fmt),
                    logprobs=c.logprobs,
                )
            )

    def replaced(self, query_id: str, slot: int, failed: str, replacement: str) -> None:
        self._event(
            self._by_id[query_id],
            TraceEvent(
                kind="replaced", stage="experts", expert=failed, slot=slot, replacement=replacement
            ),
            f"experts: {failed} replaced by {replacement}",
        )

    def not_replaced(self, query_id: str, slot: int, failed: str) -> None:
        self._event(
            self._by_id[query_id],
            TraceEvent(kind="not_replaced", stage="experts", expert=failed, slot=slot),
            f"experts: no candidate left to replace {failed}",
        )

    def aggregator_failed(self, query_id: str, aggregator: str, fallback: str) -> None:
        self._event(
            self._by_id[query_id],
            TraceEvent(
                kind="aggregator_failed", stage="aggregate", expert=aggregator, replacement=fallback
            ),
            f"aggregator failed: answered by {fallback}",
        )

    def notes(self, query_id: str, notes: list[str]) -> None:
        self._by_id[query_id].recruitment.notes.extend(notes)

    def answered(self, query_id: str, answer: str, extracted: str | None) -> None:
        trace = self._by_id[query_id]
        trace.answer, trace.extracted_answer = answer, extracted

    def unanswered(self, query_id: str, error: str) -> None:
        self._by_id[query_id].error = error

    @staticmethod
    def _event(trace: Trace, event: TraceEvent, note: str) -> None:
        trace.events.append(event)
        trace.recruitment.notes.append(note)

    # -- the report ---------------------------------------------------------------------------
    def report(
        self, stages: list[StageTiming], loads: list[ModelLoad], seconds: float
    ) -> BatchReport:
        for trace in self.traces:
            trace.seconds, trace.stages = seconds, stages
        return BatchReport(
            batch_id=self.batch_id, traces=self.traces, stages=stages, loads=loads, seconds=seconds
        )
