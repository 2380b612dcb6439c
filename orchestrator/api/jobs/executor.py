"""The background executor of batch jobs: one thread per API process takes the oldest
queued job from the database and answers its items in chunks (one answered batch each, so
the models of a chunk load once). After each chunk it stores the traces, the items' answers
and the job's progress in one transaction, and it looks for a cancel between chunks.

While it works on a job, a heartbeat thread renews the job's lease (`updated_at`) every
third of `lease_s`. A server that dies mid-chunk has stored nothing of that chunk and stops
beating: once its lease runs out, any executor (the restarted server, or another API process
on the same database) takes the job over and computes only the unanswered items, so no item
is answered twice and none is lost. A live executor's job is never taken over.

A server that stops on purpose gives its job back to the queue at once (no lease to wait
for): between chunks, or mid-chunk when the runner is cancelled (RunnerClosedError) or the
chunk is still running when `close` gives up on it; that chunk stores nothing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from orchestrator.answering import AnsweringService
from orchestrator.api.metrics import Metrics
from orchestrator.db.jobs import ChunkConflictError, JobStore, StoredJob
from orchestrator.errors import RunnerClosedError
from orchestrator.plan import BatchOptions, Query

log = logging.getLogger(__name__)


class JobExecutor:
    def __init__(
        self,
        store: JobStore,
        answering: Callable[[], AnsweringService],
        metrics: Metrics,
        *,
        chunk_size: int = 8,
        poll_s: float = 1.0,
        lease_s: float = 30.0,
    ) -> None:
        self.store = store
        # resolved per chunk: building it costs, and a profile activation replaces it
        self._answering = answering
        self.metrics = metrics
        self.chunk_size = chunk_size
        self.poll_s = min(poll_s, lease_s / 3)
        self.lease_s = lease_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._current: str | None = None  # the job being worked on

    def start(self) -> None:
        """Start the worker thread (jobs a dead server left running are taken over once
        their lease runs out)."""
        if self._thread is not None:
            return
        self.metrics.queue_depth.inc(self.store.waiting_items())
        self._thread = threading.Thread(target=self._loop, name="symoe-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """A job was submitted: look at the queue now instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Start no new chunk (the server is stopping); returns at once."""
        self._stop.set()
        self._wake.set()

    def close(self, timeout_s: float = 30.0) -> None:
        """Stop after the chunk in flight, waiting for it up to `timeout_s`; a job cut short
        goes back to the queue, also when its chunk is still running then."""
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout_s)
            job_id = self._current
            if self._thread.is_alive() and job_id is not None:
                # the chunk stores nothing once the job is no longer running (save_chunk)
                self.store.requeue(job_id)
                log.warning("job %s: chunk still running after %.0fs; requeued", job_id, timeout_s)
            self._thread = None

    # -- the worker thread --------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.store.claim_next(self.lease_s)
                if job is None:
                    self._wake.wait(self.poll_s)
                    self._wake.clear()
                    continue
                self._run(job)
            except Exception:  # the database away for a moment: log, wait, try again
                log.exception("job executor error")
                self._stop.wait(self.poll_s)

    def _run(self, job: StoredJob) -> None:
        done = threading.Event()
        beating = threading.Thread(
            target=self._beat, args=(job.summary.id, done), name="symoe-jobs-lease", daemon=True
        )
        beating.start()
        self._current = job.summary.id
        try:
            self._run_chunks(job)
        finally:
            self._current = None
            done.set()
            beating.join()

    def _beat(self, job_id: str, done: threading.Event) -> None:
        while not done.wait(self.lease_s / 3):
            try:
                self.store.beat(job_id)
            except Exception:  # the database away for a moment: the next beat may reach it
                log.exception("job %s: lease renewal failed", job_id)

    def _run_chunks(self, job: StoredJob) -> None:
        job_id = job.summary.id
        options = BatchOptions.model_validate(job.request["batch_options"])
        log.info("job %s: running (%d/%d done)", job_id, job.summary.completed, job.summary.total)
        while True:
            if self._stop.is_set():
                self.store.requeue(job_id)
                return
            chunk = self.store.next_chunk(job_id, self.chunk_size)
            if chunk is None:  # cancelled
                log.info("job %s: stopped (cancelled)", job_id)
                return
            if not chunk:
                self.store.finish(job_id)
                log.info("job %s: done", job_id)
                return
            try:
                queries = [Query(text=q) for _, q in chunk]
                # stored with the items below, in one transaction; counted once stored
                report = self._answering().answer(queries, options, record=False)
                saved = self.store.save_chunk(job_id, [i for i, _ in chunk], report)
            except ChunkConflictError:  # another executor took the job over: leave it to it
                log.warning("job %s: taken over by another executor", job_id)
                return
            except RunnerClosedError:  # the server is stopping: the chunk stored nothing
                self.store.requeue(job_id)
                log.info("job %s: back in the queue (server stopping)", job_id)
                return
            except Exception as exc:
                log.exception("job %s failed", job_id)
                # the chunk stored nothing: its items fail with the rest
                failed = self.store.fail(job_id, f"{type(exc).__name__}: {exc}")
                self.metrics.queue_depth.dec(failed)
                return
            if saved:
                self.metrics.observe_batch(report)
                self.metrics.queue_depth.dec(len(chunk))
