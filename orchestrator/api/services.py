"""The long-lived objects behind the API, built once in the app's lifespan: the deployment,
the answering service (on a micro-batching runner, since requests arrive concurrently), the
stores, the trace writer (group commits), the key store, the rate limiter and the metrics.
Each feature's service gets the collaborators it needs, not this container, so no feature
imports this module back.

Stopping is bounded: from the stop signal (`begin_shutdown`), work in flight has
`api_shutdown_grace_s` to finish; then the runner is cancelled, so requests and a job chunk
still waiting for groups end at once (the job goes back to the queue).

With several API processes, a thread follows the database's admin changes (`start_following`)."""

from __future__ import annotations

import logging
import threading
import time
from functools import cached_property
from typing import Any

from orchestrator.answering import AnsweringService
from orchestrator.api.admin.service import AdminService
from orchestrator.api.answers.service import AnswersService
from orchestrator.api.auth.ratelimit import RateLimiter
from orchestrator.api.dashboard.session import SessionCodec, load_secret
from orchestrator.api.documents.service import DocumentsService
from orchestrator.api.health.service import HealthService
from orchestrator.api.jobs.executor import JobExecutor
from orchestrator.api.jobs.service import JobsService
from orchestrator.api.metrics import Metrics
from orchestrator.api.openai.serving import OpenAIServing
from orchestrator.api.workflows.executor import WorkflowExecutor
from orchestrator.api.workflows.service import WorkflowsService
from orchestrator.db.keys import KeyStore
from orchestrator.db.trace_writer import TraceWriter
from orchestrator.factory import Deployment
from orchestrator.runners import Runner
from orchestrator.settings import Settings
from orchestrator.trace import BatchReport

log = logging.getLogger(__name__)


class ApiServices:
    def __init__(self, settings: Settings, deployment: Deployment | None = None) -> None:
        self.settings = settings
        self.deployment = deployment or Deployment(settings)
        self.metrics = Metrics()
        self.limiter = RateLimiter.from_settings(settings)
        self.admin = AdminService(
            self.deployment, lambda: self.keys, rebuild=self.rebuild_answering
        )
        self._stop_lock = threading.RLock()  # a signal may arrive while close() holds it
        self._stop_deadline: float | None = None
        self._stop_following = threading.Event()
        self._follower: threading.Thread | None = None

    @cached_property
    def runner(self) -> Runner:
        return self.deployment.make_runner(microbatch=True)

    @cached_property
    def answering(self) -> AnsweringService:
        return self._new_answering()

    @cached_property
    def trace_writer(self) -> TraceWriter:
        """Group-commits the traces of concurrent requests; flushed on close."""
        s = self.settings
        return TraceWriter(
            self.deployment.stores.traces,
            batch_max=s.trace_batch_max,
            queue_max=s.trace_queue_max,
            commit_delay_s=s.trace_commit_delay_ms / 1000,
        )

    def _save_trace(self, report: BatchReport) -> None:
        if self.settings.trace_durability == "commit":
            self.trace_writer.save(report)  # returns once committed
        else:
            self.trace_writer.submit(report)  # committed moments later; failures are logged

    def _new_answering(self) -> AnsweringService:
        return self.deployment.answering(
            runner=self.runner, observe=self.metrics.observe_batch, save=self._save_trace
        )

    def rebuild_answering(self) -> None:
        """A new answering service over the active profile set (after an activation), swapped
        in at once: requests in flight finish on the old one, the next ones take the new one."""
        self.deployment.forget_profile()
        self.__dict__["answering"] = self._new_answering()

    @cached_property
    def keys(self) -> KeyStore:
        return self.deployment.stores.keys

    @cached_property
    def jobs(self) -> JobExecutor:
        """The batch-job executor; started in the lifespan, stopped first on close."""
        return JobExecutor(
            self.deployment.stores.jobs,
            lambda: self.answering,
            self.metrics,
            chunk_size=self.settings.api_job_chunk_size,
            lease_s=self.settings.api_job_lease_s,
        )

    @cached_property
    def job_service(self) -> JobsService:
        return JobsService(self.jobs, lambda: self.answering, self.settings, self.metrics)

    @cached_property
    def answers(self) -> AnswersService:
        return AnswersService(lambda: self.answering, self.settings, self.metrics)

    @cached_property
    def health(self) -> HealthService:
        stores = self.deployment.stores
        return HealthService(stores.sessions, self.deployment.registry, self.runner)

    @cached_property
    def documents(self) -> DocumentsService:
        """Documents over the API take `symoe docs add`'s path (`Deployment.ingester`)."""
        dep = self.deployment
        return DocumentsService(dep.stores.documents, dep.ingester(), lambda: dep.retriever)

    @cached_property
    def workflow_runs(self) -> WorkflowExecutor:
        """The pool that runs workflows; stops taking runs with the server."""
        store = self.deployment.stores.workflows
        return WorkflowExecutor(store, self.settings.workflow_workers)

    @cached_property
    def workflows(self) -> WorkflowsService:
        """Workflow runs over the API take `symoe workflow run`'s path, on the API's runner;
        nothing of the answering pipeline is built before the first run."""
        dep = self.deployment
        return WorkflowsService(
            lambda: dep.workflows(runner=self.runner),  # per run: the active profile set
            dep.stores.workflows,
            self.workflow_runs,
            runs_dir=dep.workflow_runs_dir,
            extra_dir=self.settings.workflows_dir,
        )

    def publish(self, state: Any) -> None:
        """Put each feature's service on the app's state, where its routes read it."""
        state.services = self  # for tests and the lifespan's close
        state.keys, state.limiter, state.metrics = self.keys, self.limiter, self.metrics
        state.answers, state.jobs, state.openai = self.answers, self.job_service, self.openai
        state.admin, state.health = self.admin, self.health
        state.documents, state.workflows = self.documents, self.workflows
        state.dashboard_sessions = SessionCodec(
            load_secret(self.settings.data_dir), round(self.settings.dashboard_session_hours * 3600)
        )

    @cached_property
    def openai(self) -> OpenAIServing:
        """The OpenAI-compatible chat service; closed first, so completions in flight finish."""
        return OpenAIServing(
            lambda: self.answering, self.deployment.registry, self.settings, self.metrics
        )

    def start_following(self) -> None:
        """With several API processes (api_workers > 1): a thread applies the admin changes
        the others store (AdminService.follow_database every api_follow_s seconds) until
        close. A single process makes every change itself, so it starts none."""
        if self.settings.api_workers > 1 and self._follower is None:
            self._follower = threading.Thread(
                target=self._follow, name="symoe-follow-db", daemon=True
            )
            self._follower.start()

    def _follow(self) -> None:
        failing = False
        while not self._stop_following.wait(self.settings.api_follow_s):
            try:
                self.admin.follow_database()
            except Exception:  # a database away for a while: keep trying
                if not failing:
                    log.exception("following the database's admin changes failed; retrying")
                failing = True
            else:
                if failing:
                    log.info("following the database's admin changes again")
                failing = False

    def begin_shutdown(self) -> None:
        """The server is stopping: start no new job chunk, and cancel the runner once the
        grace period is over. Idempotent; returns at once."""
        with self._stop_lock:
            if self._stop_deadline is not None:
                return
            grace_s = self.settings.api_shutdown_grace_s
            self._stop_deadline = time.monotonic() + grace_s
        if "jobs" in self.__dict__:
            self.jobs.stop()
        if "workflow_runs" in self.__dict__:
            self.workflow_runs.stop()  # queued runs stay pending, to be resumed
        timer = threading.Timer(grace_s, self._cut_short)
        timer.daemon = True
        timer.start()

    def _cut_short(self) -> None:
        if "runner" in self.__dict__:
            self.runner.cancel()

    def close(self) -> None:
        """Within the grace period (counted from the stop signal, else from now)."""
        self.begin_shutdown()
        self._stop_following.set()
        if self._follower is not None:
            self._follower.join(timeout=5)  # a rebuild under way finishes first
        if "openai" in self.__dict__:
            self.openai.close()  # waits for completions; the runner's cancel ends their waits
        if "jobs" in self.__dict__:
            assert self._stop_deadline is not None
            # a cancelled chunk needs a moment to requeue its job
            self.jobs.close(timeout_s=max(0.0, self._stop_deadline - time.monotonic()) + 2)
        if "workflow_runs" in self.__dict__:
            assert self._stop_deadline is not None
            self.workflow_runs.close(timeout_s=max(0.0, self._stop_deadline - time.monotonic()) + 2)
        if "runner" in self.__dict__:
            self.runner.close()
        if "trace_writer" in self.__dict__:
            self.trace_writer.close()  # every answered request's trace, stored before exit
        if "keys" in self.__dict__:
            self.keys.close()
        self.deployment.close()
