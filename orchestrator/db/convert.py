"""Conversions between the trace objects (orchestrator.trace) and their rows."""

from __future__ import annotations

from datetime import datetime

from orchestrator.db.models import (
    BatchRow,
    FinalAnswerRow,
    ModelCallRow,
    ModelLoadRow,
    PlanRow,
    QueryRow,
    utcnow,
)
from orchestrator.trace import (
    BatchReport,
    ModelCall,
    Recruitment,
    RetrievalDecision,
    SkillTagging,
    StageTiming,
    Trace,
    TraceEvent,
)


def batch_row(report: BatchReport) -> BatchRow:
    """The rows of a whole batch, linked by relationships, ready for one session.add.

    Trace.stages and Trace.batch_id are batch-level, so they are stored once, on the batch;
    a trace that carries other values would not come back as it went in: ValueError.
    """
    now = utcnow()  # one instant for the batch and its queries: they were answered together
    for trace in report.traces:
        if trace.batch_id not in ("", report.batch_id):
            raise ValueError(f"trace {trace.query_id!r} names batch {trace.batch_id!r}")
        if trace.stages and trace.stages != report.stages:
            raise ValueError(f"trace {trace.query_id!r} has stages other than its batch's")
    return BatchRow(
        id=report.batch_id,
        created_at=now,
        n_queries=len(report.traces),
        seconds=report.seconds,
        stages=[s.model_dump(mode="json") for s in report.stages],
        queries=[_query_row(t, i, now) for i, t in enumerate(report.traces)],
        loads=[ModelLoadRow(position=i, **x.model_dump()) for i, x in enumerate(report.loads)],
    )


def _query_row(trace: Trace, position: int, now: datetime) -> QueryRow:
    # A failed query usually has no answer at all: no final_answers row then.
    has_answer = bool(trace.answer) or trace.extracted_answer is not None
    return QueryRow(
        id=trace.query_id,
        position=position,
        question=trace.question,
        created_at=now,
        status="failed" if trace.error is not None else "answered",
        error=trace.error,
        seconds=trace.seconds,
        prompt_tokens=trace.prompt_tokens,
        completion_tokens=trace.completion_tokens,
        plan=PlanRow(
            tagging=trace.tagging.model_dump(mode="json"),
            recruitment=trace.recruitment.model_dump(mode="json"),
            skills=list(trace.tagging.skills),
            drawn=list(trace.recruitment.drawn),
            aggregator=trace.recruitment.aggregator,
            retrieval=trace.retrieval.model_dump(mode="json"),
            events=[e.model_dump(mode="json") for e in trace.events],
        ),
        calls=[ModelCallRow(position=i, **c.model_dump()) for i, c in enumerate(trace.calls)],
        final=FinalAnswerRow(text=trace.answer, extracted=trace.extracted_answer)
        if has_answer
        else None,
    )


def trace_from_row(row: QueryRow) -> Trace:
    if row.plan is None:  # every save writes one; a missing plan means a broken database
        raise RuntimeError(f"query {row.id!r} has no stored plan")
    return Trace(
        query_id=row.id,
        batch_id=row.batch_id,
        question=row.question,
        tagging=SkillTagging.model_validate(row.plan.tagging),
        recruitment=Recruitment.model_validate(row.plan.recruitment),
        retrieval=RetrievalDecision.model_validate(row.plan.retrieval or {}),
        events=[TraceEvent.model_validate(e) for e in row.plan.events or []],
        calls=[ModelCall.model_validate(c, from_attributes=True) for c in row.calls],
        answer=row.final.text if row.final is not None else "",
        extracted_answer=row.final.extracted if row.final is not None else None,
        stages=[StageTiming.model_validate(s) for s in row.batch.stages],
        seconds=row.seconds,
        error=row.error,
    )
