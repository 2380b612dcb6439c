"""The REST API's settings (`symoe serve`) and the serving path's (trace writing, API
processes), part of `orchestrator.settings.Settings`; read from SYMOE_<NAME> like every other."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_ENV = SettingsConfigDict(env_prefix="SYMOE_", extra="ignore")


class ApiSettings(BaseSettings):
    """The REST API (`symoe serve`)."""

    model_config = _ENV

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_max_body_bytes: int = Field(default=1_000_000, ge=1024, description="larger: 413")
    api_rate_limit_per_minute: int = Field(default=600, ge=0, description="per key; 0 = off")
    api_max_experts: int = Field(default=8, ge=1, le=64, description="per-request k budget")
    api_max_tokens: int = Field(default=2048, ge=1, description="per-request token budget")
    api_max_job_questions: int = Field(default=10_000, ge=1)
    api_job_chunk_size: int = Field(
        default=8, ge=1, le=256, description="job questions per answered batch (one transaction)"
    )
    api_job_lease_s: float = Field(
        default=30,
        ge=1,
        description="a running job whose executor has not beaten for this long is taken over",
    )
    api_cors_origins: list[str] = Field(default_factory=list, description="empty: CORS off")
    api_public_docs: bool | None = Field(
        default=None,
        description="serve /docs, /redoc and /openapi.json without a key; unset: on with the "
        "in-process runner (the embedded default), off with celery (then /openapi.json needs "
        "a key and /docs, /redoc are off)",
    )
    workflow_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="workflow runs the API executes at once (POST /v1/workflows/{name}/runs); "
        "more wait in its queue",
    )
    dashboard_session_hours: float = Field(
        default=12, gt=0, le=24 * 30, description="an /admin login lasts this long"
    )
    api_shutdown_grace_s: float = Field(
        default=5,
        ge=0,
        description="on SIGTERM, work in flight may finish for this long; then outstanding "
        "groups are abandoned, a job cut short goes back to the queue, and the server exits",
    )
    api_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="API processes `symoe serve` runs on one port (--workers); above 1 a "
        "supervisor starts them and restarts one that dies. Keys, jobs and expert sync go "
        "through the database; the rate limit is shared only with api_rate_limit_store=redis",
    )
    api_follow_s: float = Field(
        default=1.0,
        gt=0,
        description="with api_workers above 1, each API process looks this often for the admin "
        "changes another one stored (experts, the active profile set) and applies them",
    )
    api_rate_limit_store: str = Field(
        default="memory",
        description="where the per-key rate limit's buckets live, a name in "
        "RATE_LIMIT_STORES: memory (each process counts on its own: with N processes each "
        "allows per_minute / N, rounded up, so the limit is approximate) or redis (one "
        "budget shared by every process, at api_redis_url)",
    )
    api_redis_url: str = Field(
        default="redis://127.0.0.1:6379/2",
        description="the Redis of api_rate_limit_store=redis (a database of its own, apart "
        "from Celery's broker_url and result_backend)",
    )


class ServingSettings(BaseSettings):
    """How an API process stores traces and shares state with its siblings."""

    model_config = _ENV

    trace_durability: Literal["commit", "background"] = Field(
        default="commit",
        description="commit: an answer returns once its trace is committed (group commit: "
        "one transaction for every trace ready at once); background: it returns at once and "
        "the trace is committed moments later, lost if the process dies first (the "
        "Symoe-Trace-Stored response header says which)",
    )
    trace_batch_max: int = Field(
        default=256, ge=1, le=10_000, description="traces per group-commit transaction"
    )
    trace_commit_delay_ms: float = Field(
        default=0,
        ge=0,
        le=60_000,
        description="the trace writer waits this long for more traces before a commit "
        "(fewer, larger transactions; 0: commit whatever is queued at once)",
    )
    trace_queue_max: int = Field(
        default=4096,
        ge=1,
        description="traces waiting to be written; when full, answering waits (back-pressure)",
    )
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        default="NORMAL",
        description="SQLite's durability in WAL mode: NORMAL survives a crashed process (a "
        "power loss may undo the last commits), FULL also survives a power loss, at one "
        "fsync per commit",
    )
