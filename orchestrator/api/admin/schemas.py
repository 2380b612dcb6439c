"""Wire models of /v1/admin. Experts travel as orchestrator.experts.Expert, keys as
db.keys.ApiKeyInfo, profile sets as skills.profiles.ProfileSet and ProfileSetInfo."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.db.keys import Role as KeyRole
from orchestrator.experts import Role
from workers.types import ChatFormat


class ExpertUpdate(BaseModel):
    """The fields to change; the others keep their stored values. `generation` and `options`
    are merged key by key into the stored ones (an `options` value null removes that key)."""

    model_config = ConfigDict(extra="forbid")

    backend: str | None = None
    model: str | None = Field(default=None, min_length=1)
    chat_format: ChatFormat | None = None
    n_ctx: int | None = Field(default=None, ge=64, le=2**31 - 1)
    memory_mb: int | None = Field(default=None, ge=0, le=2**31 - 1)
    roles: list[Role] | None = None
    enabled: bool | None = None
    generation: dict[str, Any] | None = None
    options: dict[str, Any] | None = None


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128, description="a label for the key")
    role: KeyRole = "user"


class ExpertStats(BaseModel):
    name: str
    drawn: int = Field(description="draws, repeats counted (a model drawn twice answers twice)")
    queries: int = Field(description="queries it answered in (drawn at least once)")
    draw_share: float = Field(description="its share of all draws")
    candidate: int = Field(description="queries where it had a recruitment weight")
    mean_weight: float | None = Field(description="mean draw weight where it was a candidate")
    aggregator: int = Field(description="queries it aggregated")
    errors: int = Field(description="draws that it did not answer (its call failed)")
    replacements: int = Field(description="answers it gave in a failed expert's slot")
    aggregator_errors: int = Field(description="aggregations that failed (answered by vote)")


class SkillStats(BaseModel):
    skill: str
    queries: int = Field(description="queries tagged with it")
    share: float = Field(description="its share of the counted queries")


class RecruitmentStats(BaseModel):
    queries: int = Field(description="stored queries counted")
    since: datetime | None
    limit: int
    experts: list[ExpertStats] = Field(description="every registered or drawn expert")
    skills: list[SkillStats] = Field(description="most tagged first")
