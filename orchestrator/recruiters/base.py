"""The recruiter interface: one batch-level method, so batch-wide rules (min_share) fit."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.trace import Recruitment
from skills.profiles import ProfileSet


class RecruitRequest(BaseModel):
    key: str = Field(description="stable per-query key; seeds the query's own draw")
    skills: list[str]
    k: int = Field(ge=1, le=64)
    pool: list[str] = Field(min_length=1, description="experts allowed for this query")


class RecruiterOptions(BaseModel):
    """What every recruiter is built from, besides the profile set and seed; each recruiter
    reads the fields it uses."""

    model_config = ConfigDict(frozen=True)

    # bounds are the settings' and the CLI's to check, where a user gives the values
    dynamic_k: float | None = Field(
        default=None, description="symbolic: top-p weight mass in place of k"
    )
    min_share: float | None = Field(
        default=None, description="symbolic: fold experts drawn in under this share"
    )
    temperature: float = Field(default=0.5, description="symbolic: competence softmax")
    committee: list[str] | None = Field(default=None, description="fixed: the committee")


class Recruiter(ABC):
    name: str = ""
    # the same committee whatever the seed: evaluation computes it once, not per seed
    deterministic: ClassVar[bool] = False

    def __init__(
        self, profile: ProfileSet | None, seed: int = 0, options: RecruiterOptions | None = None
    ) -> None:
        self.profile = profile
        self.seed = seed
        self.options = options or RecruiterOptions()

    @abstractmethod
    def recruit(self, requests: list[RecruitRequest]) -> list[Recruitment]:
        """One Recruitment per request, in order, with the scores behind it."""
