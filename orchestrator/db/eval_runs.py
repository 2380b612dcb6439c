"""EvalRunStore: the record of `symoe eval run`s (config, status, metrics).

The predictions themselves stay in the run's output directory; a row keeps the config it ran
with, where it wrote, and its metrics.json once finished.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.db.models import EvalRunRow
from orchestrator.errors import InputError

EvalStatus = Literal["running", "done", "failed"]


class EvalRunInfo(BaseModel):
    """A stored eval run. `metrics` is None until the run has finished (and may stay None for
    a failed one)."""

    id: str
    created_at: datetime
    benchmark: str
    split: str
    out_dir: str
    status: EvalStatus
    config: dict[str, Any]
    metrics: dict[str, Any] | None = None


class EvalRunStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def start_eval_run(
        self, run_id: str, benchmark: str, split: str, out_dir: str, config: dict[str, Any]
    ) -> None:
        """Record that run `run_id` has started.

        Idempotent: starting a stored id again (a resumed or repeated run) sets it back to
        running with the new benchmark, split, out_dir and config, clears the metrics of the
        earlier attempt and keeps its created_at.
        """
        for attempt in range(2):
            try:
                with self.sessions.begin() as session:
                    row = session.get(EvalRunRow, run_id)
                    if row is None:
                        session.add(
                            EvalRunRow(
                                id=run_id,
                                benchmark=benchmark,
                                split=split,
                                out_dir=out_dir,
                                config=config,
                                metrics=None,
                                status="running",
                            )
                        )
                    else:
                        row.benchmark, row.split, row.out_dir = benchmark, split, out_dir
                        row.config, row.metrics, row.status = config, None, "running"
                return
            except IntegrityError:
                # Two starts of one id raced and the other inserted first: update it instead.
                if attempt:
                    raise

    def finish_eval_run(
        self, run_id: str, metrics: dict[str, Any] | None, status: EvalStatus = "done"
    ) -> None:
        """Store the metrics and the final status ('done' or 'failed') of a started run."""
        if status not in ("done", "failed"):
            raise ValueError(f"an eval run finishes as 'done' or 'failed', not {status!r}")
        with self.sessions.begin() as session:
            row = session.get(EvalRunRow, run_id)
            if row is None:
                raise InputError(f"no stored eval run {run_id!r}")
            row.metrics, row.status = metrics, status

    def list_eval_runs(self, limit: int = 20) -> list[EvalRunInfo]:
        """The newest runs first."""
        with self.sessions() as session:
            rows = session.scalars(
                select(EvalRunRow)
                .order_by(EvalRunRow.created_at.desc(), EvalRunRow.id)
                .limit(limit)
            )
            return [EvalRunInfo.model_validate(r, from_attributes=True) for r in rows]

    def get_eval_run(self, run_id: str) -> EvalRunInfo | None:
        with self.sessions() as session:
            row = session.get(EvalRunRow, run_id)
            return None if row is None else EvalRunInfo.model_validate(row, from_attributes=True)
