"""Baseline recruiters for evaluation: a fixed committee, or k experts drawn uniformly."""

from __future__ import annotations

import random

from orchestrator.recruiters.base import Recruiter, RecruiterOptions, RecruitRequest
from orchestrator.trace import Recruitment
from skills.profiles import ProfileSet


class FixedRecruiter(Recruiter):
    """The same committee for every query (best-single, top-k, all, self-consistency)."""

    name = "fixed"

    def __init__(
        self, profile: ProfileSet | None, seed: int = 0, options: RecruiterOptions | None = None
    ) -> None:
        super().__init__(profile, seed, options)
        if not self.options.committee:
            raise ValueError("the fixed recruiter needs a committee")
        self.committee = self.options.committee

    def recruit(self, requests: list[RecruitRequest]) -> list[Recruitment]:
        weight = 1.0 / len(set(self.committee))
        return [
            Recruitment(
                recruiter=self.name,
                profile_set=self.profile.label if self.profile else None,
                weights=dict.fromkeys(self.committee, weight),
                drawn=list(self.committee),
            )
            for _ in requests
        ]


class RandomRecruiter(Recruiter):
    """k distinct experts drawn uniformly from the pool, seeded per query (random-k)."""

    name = "random"

    def recruit(self, requests: list[RecruitRequest]) -> list[Recruitment]:
        out = []
        for req in requests:
            rng = random.Random(f"{self.seed}:{req.key}")
            drawn = rng.sample(req.pool, min(req.k, len(req.pool)))
            out.append(
                Recruitment(
                    recruiter=self.name,
                    profile_set=None,
                    weights=dict.fromkeys(req.pool, 1.0 / len(req.pool)),
                    drawn=drawn,
                )
            )
        return out
