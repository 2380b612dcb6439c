"""The bounded pool that executes workflow runs in the API process (`workflow_workers`
threads; more runs wait in its queue, as `pending`).

Whatever happens inside, a run ends recorded: the engine marks a failing step and the run
failed (WorkflowFailed); any other exception (a store error between steps, a bug) is caught
here, the steps it left running are marked failed and the run failed with the error named.

Stopping: `stop` takes no new run and cancels the queued ones, which stay `pending` with an
error that says how to go on; `close` then waits for the running ones until its deadline.
A run still running when the process exits, and a queued one, is carried on with
`symoe workflow resume RUN_ID` (finished steps are not run again)."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Protocol

from orchestrator.api.errors import ApiError
from orchestrator.workflows.engine import RunStore, WorkflowFailed

log = logging.getLogger(__name__)


def resume_hint(run_id: str) -> str:
    return f"resume it with `symoe workflow resume {run_id}`"


class Startable(Protocol):
    """What the pool runs: a WorkflowEngine (its `run`)."""

    def run(self, run_id: str, input_text: str) -> object: ...


class WorkflowExecutor:
    def __init__(self, store: RunStore, workers: int) -> None:
        self.store = store
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="symoe-workflow")
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._stopped = False

    @property
    def accepting(self) -> bool:
        return not self._stopped

    def submit(self, run_id: str, engine: Startable, input_text: str) -> None:
        """Queue the stored (pending) run; 503 once the server is stopping."""
        with self._lock:
            if self._stopped:
                raise ApiError(
                    503, "the server is stopping; it starts no workflow run", code="server_stopping"
                )
            future = self._pool.submit(self._execute, run_id, engine, input_text)
            self._futures[run_id] = future
        future.add_done_callback(lambda _: self._forget(run_id))

    def _forget(self, run_id: str) -> None:
        with self._lock:
            self._futures.pop(run_id, None)

    def _execute(self, run_id: str, engine: Startable, input_text: str) -> None:
        try:
            engine.run(run_id, input_text)
        except WorkflowFailed as exc:  # recorded by the engine
            log.info("workflow run %s failed: %s", run_id, exc)
        except BaseException as exc:
            log.exception("workflow run %s stopped on an unexpected error", run_id)
            self.mark_failed(run_id, f"internal error: {type(exc).__name__}: {exc}")
            if not isinstance(exc, Exception):
                raise  # KeyboardInterrupt, SystemExit: recorded, then on their way
        else:
            log.info("workflow run %s succeeded", run_id)

    def mark_failed(self, run_id: str, message: str) -> None:
        """The run failed, and no step of it is left running."""
        try:
            self.store.recover(run_id)  # a step still running: failed (interrupted)
            self.store.set_status(run_id, "failed", message)
        except Exception:  # the database itself is failing: the log is all that is left
            log.exception("could not record workflow run %s as failed", run_id)

    def stop(self) -> None:
        """Take no new run; the queued ones stay pending, saying how to resume them."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            queued = dict(self._futures)
        self._pool.shutdown(wait=False, cancel_futures=True)
        for run_id, future in queued.items():
            if future.cancelled():
                message = f"the server stopped before this run started; {resume_hint(run_id)}"
                try:
                    self.store.set_status(run_id, "pending", message)
                except Exception:
                    log.exception("could not record workflow run %s as not started", run_id)

    def close(self, timeout_s: float) -> None:
        """Stop, then wait at most `timeout_s` for the runs in flight."""
        self.stop()
        with self._lock:
            running = list(self._futures.items())
        _, not_done = wait([f for _, f in running], timeout=timeout_s)
        for run_id, future in running:
            if future in not_done:
                log.warning(
                    "workflow run %s still running at shutdown; %s", run_id, resume_hint(run_id)
                )
