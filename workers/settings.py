"""The paths a worker reads its models and data from: its own settings, environment prefix
SYMOE_ (the same variables as the orchestrator's, which inherits these fields).

A group sent to a worker carries names, prompts and sampling parameters only; where a model
file or a recording lies is the worker's business. The in-process pool gets these from the
orchestrator's Settings; a Celery worker process reads them from its own environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, computed_field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_REPO_ROOT = Path(__file__).resolve().parents[1]


def _default_shared_data() -> Path:
    # A source checkout sits beside shared/ (as in CI); an installed copy falls back to cwd.
    for base in (_REPO_ROOT.parent, Path.cwd().parent, Path.cwd()):
        candidate = base / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return _REPO_ROOT.parent / "shared" / "data"


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SYMOE_", extra="ignore")

    data_dir: Path = Field(default=Path.home() / ".symoe", description="database, caches, models")
    shared_data_dir: Path = Field(default_factory=_default_shared_data)
    replay_dir: Path | None = Field(
        default=None,
        description="replay recordings (model_outputs_*.zip); default: "
        "<shared_data_dir>/replay/mmlu_pro; an expert's options.replay_dir wins",
    )

    @field_validator("replay_dir", mode="before")
    @classmethod
    def _empty_replay_dir_means_default(cls, value: object) -> object:
        return None if value == "" else value  # SYMOE_REPLAY_DIR= (empty): the default

    @model_validator(mode="after")
    def _default_replay_dir(self) -> WorkerSettings:
        if self.replay_dir is None:
            self.replay_dir = self.shared_data_dir / "replay" / "mmlu_pro"
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def models_dir(self) -> Path:
        """Where `pkg:` models split over chunk packages are assembled."""
        return self.data_dir / "models"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"
