"""Submitting, reading, cancelling and watching batch jobs. Jobs belong to the key that
submitted them: another user key gets 404 (as if the job did not exist), an admin key sees
every job. All state is read from the database, so any API process can serve any job."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Callable

import anyio

from orchestrator.answering import AnsweringService
from orchestrator.api.answers.service import api_batch_options
from orchestrator.api.errors import ApiError
from orchestrator.api.jobs.executor import JobExecutor
from orchestrator.api.jobs.schemas import FINISHED, JobDetail, JobRequest
from orchestrator.api.metrics import Metrics
from orchestrator.db.jobs import IdempotencyKeyTaken, JobProgress, JobStore, JobSummary, StoredJob
from orchestrator.db.keys import ApiKeyInfo
from orchestrator.plan import Query
from orchestrator.settings import Settings

EVENT_POLL_S = 0.2


def request_hash(body: JobRequest) -> str:
    """A digest of the request as validated: equal bodies give equal digests."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class JobsService:
    """What /v1/jobs does, over the job store and the executor that answers the jobs."""

    def __init__(
        self,
        executor: JobExecutor,
        answering: Callable[[], AnsweringService],
        settings: Settings,
        metrics: Metrics,
    ) -> None:
        self.executor = executor
        self.store: JobStore = executor.store
        self._answering = answering  # read per request: a profile activation replaces it
        self.settings = settings
        self.metrics = metrics

    def submit(
        self, caller: ApiKeyInfo, body: JobRequest, idempotency_key: str | None
    ) -> tuple[JobSummary, bool]:
        """Validate and queue a job; returns it and whether it is new. A retried submit with
        the same Idempotency-Key returns the first job; the same key with another body is a
        409."""
        return _submit(self, caller, body, idempotency_key)

    def owned(self, caller: ApiKeyInfo, job_id: str) -> StoredJob:
        """The job if the caller may see it; 404 otherwise (another user's job included)."""
        job = self.store.get(job_id)
        if job is None or (caller.role != "admin" and job.key_id != caller.id):
            raise ApiError(404, f"no job with id {job_id!r}", param="job_id", code="job_not_found")
        return job

    def detail(self, caller: ApiKeyInfo, job_id: str, offset: int, limit: int) -> JobDetail:
        job = self.owned(caller, job_id)
        items = self.store.items(job_id, offset, limit)
        return JobDetail(**job.summary.model_dump(), offset=offset, items=items)

    def cancel(self, caller: ApiKeyInfo, job_id: str) -> JobSummary:
        """Cancel a queued or running job; 409 once it has finished."""
        self.owned(caller, job_id)
        cancelled = self.store.cancel(job_id)
        job = self.owned(caller, job_id)
        if cancelled is None:
            raise ApiError(
                409,
                f"job {job_id} is already {job.summary.status}; only queued or running jobs "
                "can be cancelled",
                param="job_id",
                code="job_finished",
            )
        self.metrics.queue_depth.dec(cancelled)
        return job.summary


def _submit(
    jobs: JobsService, caller: ApiKeyInfo, body: JobRequest, idempotency_key: str | None
) -> tuple[JobSummary, bool]:
    limit = jobs.settings.api_max_job_questions
    if len(body.questions) > limit:
        raise ApiError(
            422,
            f"questions: {len(body.questions)} questions exceed the limit of {limit} per job",
            param="questions",
        )
    for i, question in enumerate(body.questions):
        if not question.strip():
            raise ApiError(422, f"questions.{i}: must not be blank", param=f"questions.{i}")
    if idempotency_key is not None and not idempotency_key.strip():
        raise ApiError(422, "Idempotency-Key: must not be blank", param="Idempotency-Key")
    store = jobs.store
    digest = request_hash(body)
    if idempotency_key is not None:
        existing = store.find_idempotent(caller.id, idempotency_key)
        if existing is not None:
            return _replayed(existing, idempotency_key, digest), False
    options = api_batch_options(jobs.settings, body)
    jobs._answering().validate([Query(text=q) for q in body.questions], options)
    request = {
        "options": body.model_dump(mode="json", exclude={"questions"}),
        "batch_options": options.model_dump(mode="json"),
        "sha256": digest,
    }
    try:
        job = store.create(uuid.uuid4().hex, caller.id, idempotency_key, request, body.questions)
    except IdempotencyKeyTaken:  # a concurrent retry stored it first
        assert idempotency_key is not None
        existing = store.find_idempotent(caller.id, idempotency_key)
        if existing is None:
            raise
        return _replayed(existing, idempotency_key, digest), False
    jobs.metrics.queue_depth.inc(job.total)
    jobs.executor.wake()
    return job, True


def _replayed(job: StoredJob, idempotency_key: str, digest: str) -> JobSummary:
    if job.request.get("sha256") != digest:
        raise ApiError(
            409,
            f"Idempotency-Key {idempotency_key!r} was already used for job {job.summary.id} "
            "with a different request; use a new key for a new job",
            param="Idempotency-Key",
            code="idempotency_key_reused",
        )
    return job.summary


async def progress_events(
    store: JobStore, job_id: str, poll_s: float = EVENT_POLL_S
) -> AsyncIterator[dict[str, str]]:
    """`progress` now and whenever the completed count changes, then one `done`, `failed`
    or `cancelled` event, and the stream ends. It polls the database, so it follows a job
    run by any process; a client that goes away just ends the polling."""
    last: JobProgress | None = None
    while True:
        progress = await anyio.to_thread.run_sync(store.progress, job_id)
        if progress is None:
            return
        if last is None or progress.completed != last.completed:
            yield {"event": "progress", "data": progress.model_dump_json()}
        if progress.status in FINISHED:
            yield {"event": progress.status, "data": progress.model_dump_json()}
            return
        last = progress
        await anyio.sleep(poll_s)
