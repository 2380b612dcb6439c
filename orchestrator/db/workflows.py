"""WorkflowStore: runs of agent-team workflows, their steps and the candidates' attempts, so
a run killed mid-way resumes from its last finished step and never repeats a finished one.

The engine calls these methods from several threads at once, so each is one short transaction
whose first write is conditional (`... WHERE status = 'running'`), as in JobStore: the
state a step may change from is checked by the write itself, on SQLite and PostgreSQL alike,
never by a read before it. What is written as JSON is made JSON-safe first (pydantic's json
mode), and NaN or infinities are refused, since PostgreSQL's json type cannot hold them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any, cast, get_args

from pydantic_core import PydanticSerializationError, to_jsonable_python
from sqlalchemy import CursorResult, Result, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.db.models import utcnow
from orchestrator.db.workflow_models import WorkflowAttemptRow, WorkflowRunRow, WorkflowStepRow
from orchestrator.errors import InputError
from orchestrator.workflows.routing import CandidateStats
from orchestrator.workflows.types import (
    Attempt,
    RunStatus,
    StepRecord,
    StepStatus,
    WorkflowRunRecord,
)

RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)
FINISHED_STATUSES = frozenset({"succeeded", "failed"})
INTERRUPTED = "interrupted: the process stopped mid-step"

# Column widths (workflow_models.py), checked: SQLite would store what PostgreSQL refuses.
_WIDTHS = {"workflow": 128, "spec_sha256": 64, "step key": 255, "step kind": 64}
_WIDTHS |= {"task_id": 255, "candidate": 128, "task_type": 128}
# How many of a type's newest attempts a candidate profile is measured over: recent enough
# to follow a changed tool, enough to smooth out one bad run.
PROFILE_ATTEMPTS = 1000


class WorkflowStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def create_run(self, workflow: str, spec_sha256: str, input: dict[str, Any]) -> str:
        """Store a pending run and return its id (a uuid4 hex)."""
        _fits(workflow, "workflow")
        _fits(spec_sha256, "spec_sha256")
        body = _json_safe(input, "input")
        run_id = uuid.uuid4().hex
        with self.sessions.begin() as session:
            session.add(
                WorkflowRunRow(
                    id=run_id,
                    workflow=workflow,
                    spec_sha256=spec_sha256,
                    input=body,
                    status="pending",
                    created_at=utcnow(),
                )
            )
        return run_id

    def get(self, run_id: str) -> WorkflowRunRecord:
        """The run with its steps (in start order) and attempts (in insertion order)."""
        with self.sessions() as session:
            row = _run_row(session, run_id)
            steps = session.scalars(
                select(WorkflowStepRow)
                .where(WorkflowStepRow.run_id == run_id)
                .order_by(WorkflowStepRow.started_at, WorkflowStepRow.id)
            )
            return _record(
                row,
                steps=[StepRecord.model_validate(s, from_attributes=True) for s in steps],
                attempts=_attempts(session, run_id, None),
            )

    def set_status(self, run_id: str, status: RunStatus, error: str | None = None) -> None:
        """Set the run's status and error; `finished_at` is set for succeeded and failed,
        cleared otherwise."""
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown workflow run status {status!r} (known: {RUN_STATUSES})")
        finished_at = utcnow() if status in FINISHED_STATUSES else None
        with self.sessions.begin() as session:
            changed = session.execute(
                update(WorkflowRunRow)
                .where(WorkflowRunRow.id == run_id)
                .values(status=status, error=error, finished_at=finished_at)
            )
            if _rowcount(changed) != 1:
                raise _unknown(run_id)

    def start_step(self, run_id: str, key: str, kind: str) -> None:
        """Store the step as running, or mark a failed one running again. A step that is done
        raises ValueError (a finished step is never repeated), and so does one still running
        (after a crash, `recover` the run first)."""
        _fits(key, "step key")
        _fits(kind, "step kind")
        running = {"status": "running", "kind": kind, "started_at": utcnow()}
        try:
            with self.sessions.begin() as session:
                restarted = session.execute(
                    update(WorkflowStepRow)
                    .where(*_step_is(run_id, key), WorkflowStepRow.status == "failed")
                    .values(**running, output=None, error=None, finished_at=None)
                )
                if _rowcount(restarted) == 1:
                    return
                current = _step_status(session, run_id, key)
                if current is not None:
                    raise ValueError(_not_startable(run_id, key, current))
                _run_row(session, run_id)
                session.add(WorkflowStepRow(run_id=run_id, key=key, **running))
        except IntegrityError as exc:  # PostgreSQL: another caller inserted it meanwhile
            raise ValueError(_not_startable(run_id, key, "running")) from exc

    def finish_step(self, run_id: str, key: str, output: dict[str, Any]) -> None:
        """Mark a running step done with its output (what a resume hands on)."""
        body = _json_safe(output, f"output of step {key!r}")
        self._end_step(run_id, key, "done", body, None)

    def fail_step(self, run_id: str, key: str, error: str) -> None:
        """Mark a running step failed; `start_step` may start it again."""
        self._end_step(run_id, key, "failed", None, error)

    def done_steps(self, run_id: str) -> dict[str, dict[str, Any]]:
        """key -> output of every done step of the run."""
        with self.sessions() as session:
            _run_row(session, run_id)
            rows = session.execute(
                select(WorkflowStepRow.key, WorkflowStepRow.output)
                .where(WorkflowStepRow.run_id == run_id, WorkflowStepRow.status == "done")
                .order_by(WorkflowStepRow.started_at, WorkflowStepRow.id)
            )
            return {key: dict(output or {}) for key, output in rows}

    def add_attempt(self, run_id: str, attempt: Attempt) -> None:
        """Store one attempt; the same (task, candidate, number) twice raises ValueError."""
        _fits(attempt.task_id, "task_id")
        _fits(attempt.candidate, "candidate")
        if attempt.task_type is not None:
            _fits(attempt.task_type, "task_type")
        name = f"attempt {attempt.number} of {attempt.candidate!r} on task {attempt.task_id!r}"
        body = _json_safe(attempt.model_dump(mode="json"), name)
        try:
            with self.sessions.begin() as session:
                _run_row(session, run_id)
                session.add(
                    WorkflowAttemptRow(
                        run_id=run_id,
                        task_id=attempt.task_id,
                        candidate=attempt.candidate,
                        number=attempt.number,
                        task_type=attempt.task_type,
                        body=body,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError as exc:
            raise ValueError(f"{name} is already stored in workflow run {run_id}") from exc

    def attempts(self, run_id: str, task_id: str | None = None) -> list[Attempt]:
        """The run's attempts (of one task when `task_id` is given) in insertion order."""
        with self.sessions() as session:
            _run_row(session, run_id)
            return _attempts(session, run_id, task_id)

    def candidate_stats(
        self,
        workflow: str,
        task_type: str,
        thresholds: Mapping[str, float],
        exclude_run: str | None = None,
        limit: int = PROFILE_ATTEMPTS,
    ) -> dict[str, CandidateStats]:
        """candidate -> (attempts, passed, mean score) over the newest `limit` attempts on
        sub-tasks of `task_type` in runs of `workflow` (not `exclude_run`); passed means
        every score met its threshold in `thresholds` (the workflow's thresholds now, not
        when the attempt ran), and an attempt that failed scores 0."""
        query = (
            select(WorkflowAttemptRow.body)
            .join(WorkflowRunRow, WorkflowRunRow.id == WorkflowAttemptRow.run_id)
            .where(WorkflowRunRow.workflow == workflow, WorkflowAttemptRow.task_type == task_type)
        )
        if exclude_run is not None:
            query = query.where(WorkflowAttemptRow.run_id != exclude_run)
        with self.sessions() as session:
            bodies = session.scalars(query.order_by(WorkflowAttemptRow.id.desc()).limit(limit))
            made = [Attempt.model_validate(body) for body in bodies]
        limits = dict(thresholds)
        totals: dict[str, tuple[int, int, float]] = {}
        for attempt in reversed(made):  # oldest first: candidates in the order first seen
            count, passed, score = totals.get(attempt.candidate, (0, 0, 0.0))
            ok = attempt.passed(limits)
            totals[attempt.candidate] = (count + 1, passed + ok, score + attempt.mean_score())
        return {c: CandidateStats(n, p, s / n) for c, (n, p, s) in totals.items()}

    def recover(self, run_id: str) -> int:
        """After a crash: every step still running becomes failed (INTERRUPTED) and the run
        goes back to pending, in one transaction; returns how many steps were recovered."""
        with self.sessions.begin() as session:
            interrupted = session.execute(
                update(WorkflowStepRow)
                .where(WorkflowStepRow.run_id == run_id, WorkflowStepRow.status == "running")
                .values(status="failed", error=INTERRUPTED, finished_at=utcnow())
            )
            reset = session.execute(
                update(WorkflowRunRow)
                .where(WorkflowRunRow.id == run_id)
                .values(status="pending", error=None, finished_at=None)
            )
            if _rowcount(reset) != 1:
                raise _unknown(run_id)
            return _rowcount(interrupted)

    def recover_step(self, run_id: str, key: str) -> bool:
        """One step still running becomes failed (INTERRUPTED), so `start_step` may start it
        again: a sub-task a Celery worker had begun when it died, delivered again. Whether
        the step was running."""
        with self.sessions.begin() as session:
            interrupted = session.execute(
                update(WorkflowStepRow)
                .where(*_step_is(run_id, key), WorkflowStepRow.status == "running")
                .values(status="failed", error=INTERRUPTED, finished_at=utcnow())
            )
            return _rowcount(interrupted) == 1

    def _end_step(
        self,
        run_id: str,
        key: str,
        status: StepStatus,
        output: dict[str, Any] | None,
        error: str | None,
    ) -> None:
        with self.sessions.begin() as session:
            ended = session.execute(
                update(WorkflowStepRow)
                .where(*_step_is(run_id, key), WorkflowStepRow.status == "running")
                .values(status=status, output=output, error=error, finished_at=utcnow())
            )
            if _rowcount(ended) == 1:
                return
            current = _step_status(session, run_id, key)
            if current is None:
                _run_row(session, run_id)
                raise ValueError(f"workflow run {run_id} has no step {key!r}")
            raise ValueError(f"step {key!r} of workflow run {run_id} is {current}, not running")

    # Last: in the class body, `list` names this method from here on.
    def list(self, limit: int = 50) -> list[WorkflowRunRecord]:
        """The newest runs first, without their steps and attempts."""
        if limit < 1:
            raise InputError(f"limit must be at least 1, got {limit}", param="limit")
        with self.sessions() as session:
            rows = session.scalars(
                select(WorkflowRunRow).order_by(WorkflowRunRow.created_at.desc()).limit(limit)
            )
            return [_record(row, steps=[], attempts=[]) for row in rows]


def _record(
    row: WorkflowRunRow, steps: list[StepRecord], attempts: list[Attempt]
) -> WorkflowRunRecord:
    record = WorkflowRunRecord.model_validate(row, from_attributes=True)
    return record.model_copy(update={"steps": steps, "attempts": attempts})


def _attempts(session: Session, run_id: str, task_id: str | None) -> list[Attempt]:
    query = select(WorkflowAttemptRow.body).where(WorkflowAttemptRow.run_id == run_id)
    if task_id is not None:
        query = query.where(WorkflowAttemptRow.task_id == task_id)
    return [
        Attempt.model_validate(body)
        for body in session.scalars(query.order_by(WorkflowAttemptRow.id))
    ]


def _run_row(session: Session, run_id: str) -> WorkflowRunRow:
    row = session.get(WorkflowRunRow, run_id)
    if row is None:
        raise _unknown(run_id)
    return row


def _unknown(run_id: str) -> InputError:
    return InputError(f"no workflow run {run_id}", param="run_id")


def _step_is(run_id: str, key: str) -> tuple[Any, Any]:
    return WorkflowStepRow.run_id == run_id, WorkflowStepRow.key == key


def _step_status(session: Session, run_id: str, key: str) -> str | None:
    return session.scalar(select(WorkflowStepRow.status).where(*_step_is(run_id, key)))


def _not_startable(run_id: str, key: str, status: str) -> str:
    if status == "done":
        return f"step {key!r} of workflow run {run_id} is already done; it is never repeated"
    return f"step {key!r} of workflow run {run_id} is already running (recover the run first)"


def _rowcount(result: Result[Any]) -> int:
    return cast(CursorResult[Any], result).rowcount


def _fits(value: str, field: str) -> None:
    if not value or len(value) > _WIDTHS[field]:
        raise InputError(
            f"{field} must be 1 to {_WIDTHS[field]} characters, got {len(value)}: {value[:60]!r}",
            param=field,
        )


def _json_safe(value: dict[str, Any], field: str) -> dict[str, Any]:
    """`value` as pydantic's json mode writes it (datetimes, paths, models as JSON values);
    InputError naming `field` when it holds what JSON cannot (NaN, infinity, an object)."""
    try:
        safe = to_jsonable_python(value)
        json.dumps(safe, allow_nan=False)
    except (PydanticSerializationError, ValueError, TypeError) as exc:
        raise InputError(f"{field} is not JSON-safe: {exc}", param=field) from exc
    return cast(dict[str, Any], safe)
