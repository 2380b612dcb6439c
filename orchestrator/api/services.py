"""The long-lived objects behind the API, built once in the app's lifespan: the deployment,
the pipeline (on a micro-batching runner, since requests arrive concurrently), the stores,
the key store, the rate limiter and the metrics."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from orchestrator.api.admin.service import AdminService
from orchestrator.api.auth.keys import KeyStore
from orchestrator.api.auth.ratelimit import RateLimiter
from orchestrator.api.jobs.executor import JobExecutor
from orchestrator.api.jobs.store import JobStore
from orchestrator.api.metrics import Metrics
from orchestrator.factory import Deployment
from orchestrator.pipeline import Pipeline
from orchestrator.runners import Runner
from orchestrator.settings import Settings

if TYPE_CHECKING:
    from orchestrator.api.openai.serving import OpenAIServing


class ApiServices:
    def __init__(self, settings: Settings, deployment: Deployment | None = None) -> None:
        self.settings = settings
        self.deployment = deployment or Deployment(settings)
        self.metrics = Metrics()
        self.limiter = RateLimiter(settings.api_rate_limit_per_minute)
        self.admin = AdminService(self)

    @cached_property
    def runner(self) -> Runner:
        return self.deployment.make_runner(microbatch=True)

    @cached_property
    def pipeline(self) -> Pipeline:
        return self.deployment.pipeline(runner=self.runner)

    def rebuild_pipeline(self) -> None:
        """A new pipeline over the active profile set (after an activation), swapped in at
        once: requests in flight finish on the old one, the next ones take the new one."""
        self.deployment.forget_profile()
        self.__dict__["pipeline"] = self.deployment.pipeline(runner=self.runner)

    @cached_property
    def keys(self) -> KeyStore:
        return KeyStore(self.deployment.store.sessions)

    @cached_property
    def jobs(self) -> JobExecutor:
        """The batch-job executor; started in the lifespan, stopped first on close."""
        return JobExecutor(
            JobStore(self.deployment.store.sessions),
            lambda: self.pipeline.run,
            self.metrics,
            chunk_size=self.settings.api_job_chunk_size,
            lease_s=self.settings.api_job_lease_s,
        )

    @cached_property
    def openai(self) -> OpenAIServing:
        """The OpenAI-compatible chat service; closed first, so completions in flight finish."""
        from orchestrator.api.openai.serving import OpenAIServing  # it imports this module

        return OpenAIServing(self)

    def close(self) -> None:
        if "openai" in self.__dict__:
            self.openai.close()
        if "jobs" in self.__dict__:
            self.jobs.close()
        if "runner" in self.__dict__:
            self.runner.close()
        self.deployment.close()
