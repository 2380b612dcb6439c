"""Conversions between the trace objects (orchestrator.trace) and their rows."""

from __future__ import annotations

from orchestrator.db.models import (
    QueryRow,
)
from orchestrator.trace import (
    ModelCall,
    Recruitment,
    RetrievalDecision,
    SkillTagging,
    StageTiming,
    Trace,
    TraceEvent,
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
