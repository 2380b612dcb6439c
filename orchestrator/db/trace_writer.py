"""Group commit of traces, off the request path: requests hand their batch reports to one
writer thread, which stores everything queued so far in one transaction and then tells each
request its outcome. Under load one commit serves many requests (as PostgreSQL's own group
commit does for its WAL); an idle server commits each trace at once.

`save` waits for the commit (the trace is durable when it returns); `submit` returns at once
with a future. The queue is bounded: when it is full, handing in waits (back-pressure)
instead of letting memory grow. `close` stores what is queued before it returns.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass

from orchestrator.db.traces import TraceStore
from orchestrator.errors import SymoeError
from orchestrator.trace import BatchReport

log = logging.getLogger(__name__)


class TraceWriterClosedError(SymoeError):
    """The writer was closed: the server is stopping and stores nothing more."""


@dataclass
class TraceWriterStats:
    commits: int = 0  # transactions
    reports: int = 0  # batch reports stored
    failed: int = 0  # batch reports refused (duplicates, unstorable text, database errors)
    largest: int = 0  # the most reports one transaction stored

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


class TraceWriter:
    def __init__(
        self,
        store: TraceStore,
        batch_max: int = 256,
        queue_max: int = 4096,
        commit_delay_s: float = 0.0,
    ) -> None:
        self.store = store
        self.batch_max = batch_max
        self.queue_max = queue_max
        self.commit_delay_s = commit_delay_s  # gather this long before a commit (tests: 0)
        self.stats = TraceWriterStats()
        self._queue: deque[tuple[BatchReport, Future[None]]] = deque()
        lock = threading.Lock()
        self._changed = threading.Condition(lock)  # the writer waits here for work
        self._room = threading.Condition(lock)  # callers held back by a full queue wait here
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="symoe-trace-writer", daemon=True)
        self._thread.start()

    def save(self, report: BatchReport) -> None:
        """Store `report`; returns once it is committed, raises what kept it out."""
        self.submit(report).result()

    def submit(self, report: BatchReport) -> Future[None]:
        """Queue `report` (waiting while the queue is full); the future ends at its commit."""
        future: Future[None] = Future()
        with self._changed:
            while len(self._queue) >= self.queue_max and not self._closed:
                self._room.wait()
            if self._closed:
                raise TraceWriterClosedError("the trace writer is closed; nothing is stored")
            self._queue.append((report, future))
            self._changed.notify()
        return future

    def queued(self) -> int:
        with self._changed:
            return len(self._queue)

    def close(self, timeout_s: float = 30.0) -> None:
        """Take nothing more, store what is queued, stop the thread. Idempotent."""
        with self._changed:
            self._closed = True
            self._changed.notify()
            self._room.notify_all()
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            left = self.queued()
            log.error("trace writer: %d traces still unstored after %.0fs", left, timeout_s)

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._queue and not self._closed:
                    self._changed.wait()
                if not self._queue:  # closed and drained
                    return
            if self.commit_delay_s and not self._closed:
                self._gather()
            with self._changed:
                full = len(self._queue) >= self.queue_max
                n = min(self.batch_max, len(self._queue))
                taken = [self._queue.popleft() for _ in range(n)]
                if full:
                    self._room.notify_all()  # room again for callers held by back-pressure
            self._commit(taken)

    def _gather(self) -> None:
        """Wait up to commit_delay_s for a full batch (or the close)."""
        deadline = time.monotonic() + self.commit_delay_s
        with self._changed:
            while len(self._queue) < self.batch_max and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._changed.wait(left)

    def _commit(self, taken: list[tuple[BatchReport, Future[None]]]) -> None:
        try:
            outcomes = self.store.save_batches([report for report, _ in taken])
        except Exception as exc:  # save_batches reports per item; a guard
            outcomes = [exc] * len(taken)
        self.stats.commits += 1
        self.stats.largest = max(self.stats.largest, len(taken))
        for (report, future), error in zip(taken, outcomes, strict=True):
            if not future.set_running_or_notify_cancel():
                continue  # its caller cancelled the wait; the outcome stands all the same
            if error is None:
                self.stats.reports += 1
                future.set_result(None)
            else:
                self.stats.failed += 1
                log.warning("trace of batch %s not stored: %s", report.batch_id, error)
                future.set_exception(error)
