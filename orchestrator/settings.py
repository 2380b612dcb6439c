"""All configuration in one place: one `Settings`, environment prefix SYMOE_.

`Settings` combines one small class per concern: paths (the workers' own, from
workers/settings.py, plus the orchestrator's), execution, tagging and recruiting, document
chunking, token budgets and the REST API. Nothing else in symoe reads the environment, except
the workers' path settings that a Celery worker process reads for itself. Defaults are the embedded
deployment: a SQLite file under the data dir, the in-process runner, the local llama.cpp
experts on the CPU, and data read where it lies in ../shared/data.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, computed_field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from orchestrator.settings_api import ApiSettings, ServingSettings
from workers.settings import WorkerSettings

_DEFAULTS = Path(__file__).resolve().parent / "defaults"
_ENV = SettingsConfigDict(env_prefix="SYMOE_", extra="ignore")

log = logging.getLogger(__name__)

# SYMOE_ variables that are not settings, so no warning: compose.yaml's, scripts/setup's
# llama.cpp flags, and any SYMOE_TEST_* variable (e.g. SYMOE_TEST_POSTGRES_URL).
NOT_SETTINGS = frozenset(
    {"SYMOE_DB_PASSWORD", "SYMOE_REDIS_PORT", "SYMOE_WORKER_MEMORY_MB", "SYMOE_LLAMA_CMAKE_ARGS"}
)
NOT_SETTINGS_PREFIX = "SYMOE_TEST_"
_warned: set[str] = set()


def unknown_variables(environ: Mapping[str, str], known: list[str]) -> dict[str, str | None]:
    """Each SYMOE_ variable of `environ` that is no setting, with the nearest known name."""
    out: dict[str, str | None] = {}
    for key in sorted(environ):
        name = key.upper()  # settings are read case-insensitively
        if not name.startswith("SYMOE_") or name in known or name in NOT_SETTINGS:
            continue
        if not name.startswith(NOT_SETTINGS_PREFIX):
            # compared without the shared prefix, which would make any name look close
            bare = {k.removeprefix("SYMOE_"): k for k in known}
            close = difflib.get_close_matches(name.removeprefix("SYMOE_"), list(bare), n=1)
            out[key] = bare[close[0]] if close else None
    return out


class PathSettings(WorkerSettings):
    """Where things lie: the workers' paths (data_dir, shared_data_dir, replay_dir and the
    derived models_dir, cache_dir), declared once in WorkerSettings, plus the orchestrator's."""

    model_config = _ENV

    database_url: str | None = Field(default=None, description="default: SQLite under data_dir")
    experts_file: Path = Field(default=_DEFAULTS / "experts.yaml")
    profile_file: Path | None = Field(
        default=_DEFAULTS / "profile_local.json",
        description="profile set the recruiter reads; none -> uniform weights",
    )

    workflows_dir: Path | None = Field(
        default=None,
        description="more workflow files (NAME.yaml) beside the built-in ones; one with a "
        "built-in name replaces it",
    )

    eval_runs_dir: Path | None = Field(
        default=None,
        description="where the dashboard finds `symoe eval run` folders (each subfolder "
        "holding a config.json); default <data_dir>/eval-runs",
    )

    @field_validator("profile_file", "workflows_dir", "eval_runs_dir", mode="before")
    @classmethod
    def _empty_means_none(cls, value: object) -> object:
        return None if value == "" else value  # SYMOE_PROFILE_FILE= switches the profile off

    @model_validator(mode="after")
    def _default_eval_runs_dir(self) -> PathSettings:
        if self.eval_runs_dir is None:
            self.eval_runs_dir = self.data_dir / "eval-runs"
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'symoe.db'}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def benchmarks_dir(self) -> Path:
        return self.shared_data_dir / "benchmarks"


class ExecutionSettings(BaseSettings):
    """Where groups run: the runner, the model pool's budget, and distributed serving."""

    model_config = _ENV

    # checked against RUNNERS when a Deployment is made (the runners build on these settings)
    runner: str = Field(default="inprocess", description="a name in RUNNERS: inprocess, celery")
    memory_budget_mb: int = Field(default=2048, ge=0)

    # distributed serving (runner "celery"): Redis as broker and result backend
    broker_url: str = "redis://127.0.0.1:6379/0"
    result_backend: str = "redis://127.0.0.1:6379/1"
    broker_visibility_timeout_s: float = Field(
        default=3600,
        gt=0,
        description="the broker redelivers an unacknowledged group after this (a backstop: "
        "keep it above the longest group, or a healthy group runs twice)",
    )
    group_timeout_s: float = Field(default=600, gt=0, description="per attempt of a group")
    worker_heartbeat_s: float = Field(
        default=2, gt=0, le=60, description="a worker renews its liveness key this often"
    )
    worker_lost_after_s: float = Field(
        default=10,
        gt=0,
        description="a worker silent this long is lost: its started group is sent again",
    )
    microbatch_window_ms: float = Field(
        default=20,
        ge=0,
        le=5000,
        description="online serving: the longest a group waits for more of its expert's "
        "requests while one is in flight (an idle expert's group goes at once; 0 = off)",
    )
    group_retries: int = Field(default=1, ge=0)
    # where a workflow's independent sub-tasks run: a bounded thread pool in the process
    # running the workflow, or Celery workers (`symoe worker --workflows`) as a group of
    # sub-task tasks with a chord collecting the step's output
    workflow_runner: Literal["inprocess", "celery"] = "inprocess"
    workflow_celery_timeout_s: float = Field(
        default=3600, gt=0, description="longest wait for a tasks step's chord (celery)"
    )

    @model_validator(mode="after")
    def _heartbeat_fits(self) -> ExecutionSettings:
        # one late beat (a busy machine) must not make a live worker look lost
        if self.worker_lost_after_s < 2 * self.worker_heartbeat_s:
            raise ValueError(
                f"worker_lost_after_s ({self.worker_lost_after_s:g}) must be at least twice "
                f"worker_heartbeat_s ({self.worker_heartbeat_s:g})"
            )
        return self


class RecruitingSettings(BaseSettings):
    """How a query is tagged, which experts are recruited, and how answers are combined."""

    model_config = _ENV

    tagger: str = "embedding"
    tagger_samples: int = Field(default=3, ge=1, le=10)
    skill_floor: float = Field(default=0.40, ge=-1.0, le=1.0)
    skills_per_query: int = Field(default=3, ge=1, le=10)

    retrieval_gate: str = Field(
        default="never", description="per-query choice between retrieval and the experts"
    )
    # auto: the method chosen on validation data (ranked + learned) where the profile set
    # carries its fitted weights, else the reference (symbolic + llm)
    recruiter: str = "auto"
    k: int = Field(default=3, ge=1, le=16)
    aggregation: str = "auto"
    cascade: bool = Field(
        default=False,
        description="ask recruited experts in order, stop once the answer is settled",
    )
    dynamic_k: float | None = Field(default=None, gt=0.0, le=1.0, description="top-p mass")
    min_share: float | None = Field(default=None, gt=0.0, lt=1.0)
    seed: int = 0


class RetrievalSettings(BaseSettings):
    """How ingested documents are cut into chunks (`symoe docs add`) and which retriever
    searches them."""

    model_config = _ENV

    retriever: str = Field(
        default="hybrid", description="a RETRIEVERS name: bm25, dense, hybrid or langchain"
    )
    langchain_retriever: str | None = Field(
        default=None,
        description="retriever langchain: 'module:attribute', a LangChain BaseRetriever or a "
        "callable with no arguments that returns one",
    )
    retrieval_passages: int = Field(
        default=3, ge=1, le=20, description="passages a retrieving query's expert prompts carry"
    )
    bm25_weight: float = Field(default=1.0, ge=0.0, description="retriever hybrid: BM25's weight")
    dense_weight: float = Field(default=1.0, ge=0.0, description="retriever hybrid: dense's weight")
    # At most 250: the embedder reads 256 tokens with [CLS] and [SEP] (retrieval/chunking.py).
    chunk_tokens: int = Field(default=200, ge=16, le=250, description="tokens per chunk")
    chunk_overlap: int = Field(default=40, ge=0, description="tokens shared by neighbours")

    @model_validator(mode="after")
    def _overlap_fits(self) -> RetrievalSettings:
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError(
                f"chunk_overlap ({self.chunk_overlap}) must be below chunk_tokens "
                f"({self.chunk_tokens})"
            )
        return self


class BudgetSettings(BaseSettings):
    """Token budgets of each stage's generation."""

    model_config = _ENV

    expert_max_tokens: int = Field(default=96, ge=1)
    aggregator_max_tokens: int = Field(default=128, ge=1)


class Settings(
    PathSettings,
    ExecutionSettings,
    RecruitingSettings,
    RetrievalSettings,
    BudgetSettings,
    ApiSettings,
    ServingSettings,
):
    """Every setting, grouped by concern in the classes above; each field `name` is read
    from SYMOE_<NAME>."""

    model_config = _ENV

    @model_validator(mode="after")
    def _warn_unknown(self) -> Settings:
        # pydantic-settings drops unknown SYMOE_ variables silently; a misspelt one would
        # leave its setting at the default unnoticed. Each is named once per process.
        known = [f"SYMOE_{name.upper()}" for name in type(self).model_fields]
        for key, nearest in unknown_variables(os.environ, known).items():
            if key not in _warned:
                _warned.add(key)
                hint = f"; did you mean {nearest}?" if nearest else ""
                log.warning("%s is not a symoe setting and is ignored%s", key, hint)
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
