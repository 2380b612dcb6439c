"""Batch reports as plain rows, inserted with one multi-row INSERT per table.

A trace is six to ten rows over six tables. Built as ORM objects, each row costs the unit of
work's bookkeeping (about 2.5 ms per one-question trace, four times the whole in-process
answer with scripted experts); as dicts inserted per table it costs a fraction of that, and a
group commit of many traces is still one statement per table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from orchestrator.db.models import (
    BatchRow,
    FinalAnswerRow,
    ModelCallRow,
    ModelLoadRow,
    PlanRow,
    QueryRow,
    utcnow,
)
from orchestrator.trace import BatchReport, Trace

Row = dict[str, Any]

# parents before children (foreign keys)
_TABLES: list[Table] = [
    m.__table__  # type: ignore[misc]
    for m in (BatchRow, QueryRow, PlanRow, FinalAnswerRow, ModelCallRow, ModelLoadRow)
]


def insert_reports(session: Session, reports: list[BatchReport]) -> None:
    """Insert every row of `reports` in `session`'s transaction (one INSERT per table).

    Trace.stages and Trace.batch_id are batch-level, so they are stored once, on the batch;
    a trace that carries other values would not come back as it went in: ValueError.
    """
    rows: dict[str, list[Row]] = {t.name: [] for t in _TABLES}
    for report in reports:
        _add_report(rows, report)
    for table in _TABLES:
        if rows[table.name]:
            session.execute(insert(table), rows[table.name])


def _add_report(rows: dict[str, list[Row]], report: BatchReport) -> None:
    now = utcnow()  # one instant for the batch and its queries: they were answered together
    for trace in report.traces:
        if trace.batch_id not in ("", report.batch_id):
            raise ValueError(f"trace {trace.query_id!r} names batch {trace.batch_id!r}")
        if trace.stages and trace.stages != report.stages:
            raise ValueError(f"trace {trace.query_id!r} has stages other than its batch's")
    rows["batches"].append(
        {
            "id": report.batch_id,
            "created_at": now,
            "n_queries": len(report.traces),
            "seconds": report.seconds,
            "stages": [s.model_dump(mode="json") for s in report.stages],
        }
    )
    for position, trace in enumerate(report.traces):
        _add_trace(rows, trace, report.batch_id, position, now)
    rows["model_loads"] += [
        {"batch_id": report.batch_id, "position": i, **load.model_dump()}
        for i, load in enumerate(report.loads)
    ]


def _add_trace(
    rows: dict[str, list[Row]], trace: Trace, batch_id: str, position: int, now: datetime
) -> None:
    query_id = trace.query_id
    rows["queries"].append(
        {
            "id": query_id,
            "batch_id": batch_id,
            "position": position,
            "question": trace.question,
            "created_at": now,
            "status": "failed" if trace.error is not None else "answered",
            "error": trace.error,
            "seconds": trace.seconds,
            "prompt_tokens": trace.prompt_tokens,
            "completion_tokens": trace.completion_tokens,
        }
    )
    rows["plans"].append(
        {
            "query_id": query_id,
            "tagging": trace.tagging.model_dump(mode="json"),
            "recruitment": trace.recruitment.model_dump(mode="json"),
            "skills": list(trace.tagging.skills),
            "drawn": list(trace.recruitment.drawn),
            "aggregator": trace.recruitment.aggregator,
            "retrieval": trace.retrieval.model_dump(mode="json"),
            "events": [e.model_dump(mode="json") for e in trace.events],
        }
    )
    # A failed query usually has no answer at all: no final_answers row then.
    if trace.answer or trace.extracted_answer is not None:
        rows["final_answers"].append(
            {"query_id": query_id, "text": trace.answer, "extracted": trace.extracted_answer}
        )
    rows["model_calls"] += [
        {"query_id": query_id, "position": i, **call.model_dump()}
        for i, call in enumerate(trace.calls)
    ]
