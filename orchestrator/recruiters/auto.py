"""`auto` (the default recruiter): the method chosen on validation data (README, "Recruiting
with more validation data") where the profile set supports it, else the reference.

A profile set that carries fitted aggregation weights (`stacker`, written by `symoe profile
build`) also carries what `ranked` needs, so `auto` is `ranked` there; with an older set, or
none, it is `symbolic`. The trace names the recruiter that ran."""

from __future__ import annotations

from orchestrator.recruiters.base import Recruiter, RecruiterOptions, RecruitRequest
from orchestrator.recruiters.ranked import RankedRecruiter
from orchestrator.recruiters.symbolic import SymbolicRecruiter
from orchestrator.trace import Recruitment
from skills.profiles import ProfileSet


def supports_chosen_method(profile: ProfileSet | None) -> bool:
    """Whether the set was built with the fitted weights the chosen method needs."""
    return profile is not None and profile.stacker is not None


class AutoRecruiter(Recruiter):
    name = "auto"

    def __init__(
        self, profile: ProfileSet | None, seed: int = 0, options: RecruiterOptions | None = None
    ) -> None:
        super().__init__(profile, seed, options)
        chosen = RankedRecruiter if supports_chosen_method(profile) else SymbolicRecruiter
        self.inner: Recruiter = chosen(profile, seed, options)

    @property
    def chosen(self) -> str:
        return self.inner.name

    def recruit(self, requests: list[RecruitRequest]) -> list[Recruitment]:
        return self.inner.recruit(requests)
