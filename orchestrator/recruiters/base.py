"""The recruiter interface: one batch-level method, so batch-wide rules (min_share) fit."""

from __future__ import annotations

from abc import ABC, abstractmethod

from pydantic import BaseModel, Field

from orchestrator.trace import Recruitment
from skills.profiles import ProfileSet


class RecruitRequest(BaseModel):
    key: str = Field(description="stable per-query key; seeds the query's own draw")
    skills: list[str]
    k: int = Field(ge=1, le=64)
    pool: list[str] = Field(min_length=1, description="experts allowed for this query")


class Recruiter(ABC):
    name: str = ""

    def __init__(self, profile: ProfileSet | None, seed: int = 0) -> None:
        self.profile = profile
        self.seed = seed

    @abstractmethod
    def recruit(self, requests: list[RecruitRequest]) -> list[Recruitment]:
        """One Recruitment per request, in order, with the scores behind it."""
