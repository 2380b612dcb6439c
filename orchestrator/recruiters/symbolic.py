"""The `symbolic` recruiter: Symbolic-MoE's skill-based recruitment, seeded per query."""

from __future__ import annotations

import random
from functools import cached_property

from orchestrator.recruiters.base import Recruiter, RecruiterOptions, RecruitRequest
from orchestrator.recruiters.math import (
    candidate_weights,
    draw,
    fold_rare,
    normalize_to_probability,
    top_p,
)
from orchestrator.trace import Recruitment
from skills.profiles import ProfileSet


class SymbolicRecruiter(Recruiter):
    """Reference math (see DESIGN.md) plus two options:
    `dynamic_k` = p: take the heaviest experts until their weight mass reaches p (no repeats);
    `min_share` = s: fold experts drawn in under s of the batch's draws into frequent ones."""

    name = "symbolic"

    def __init__(
        self, profile: ProfileSet | None, seed: int = 0, options: RecruiterOptions | None = None
    ) -> None:
        super().__init__(profile, seed, options)
        self.dynamic_k = self.options.dynamic_k
        self.min_share = self.options.min_share
        self.temperature = self.options.temperature

    @cached_property
    def _competence(self) -> dict[str, float]:
        """G_m depends on the profile set alone (a recruiter keeps its set for life): summed
        once, not once per query."""
        return self.profile.global_competence() if self.profile is not None else {}

    def _rng(self, key: str) -> random.Random:
        # Seeded by (seed, query key): a query draws the same experts alone or in any batch.
        return random.Random(f"{self.seed}:{key}")

    def recruit(self, requests: list[RecruitRequest]) -> list[Recruitment]:
        plans = [self._recruit_one(r, self._competence) for r in requests]
        if self.min_share and len(plans) > 1:
            rows, replaced = fold_rare(
                [p.drawn for p in plans], self.min_share, random.Random(f"{self.seed}:fold")
            )
            for plan, row in zip(plans, rows, strict=True):
                if row != plan.drawn:
                    swaps = sorted({f"{a}->{b}" for a, b in replaced.items() if a in plan.drawn})
                    plan.notes.append(f"min_share {self.min_share}: folded {', '.join(swaps)}")
                    plan.drawn = row
        return plans

    def _recruit_one(self, req: RecruitRequest, competence: dict[str, float]) -> Recruitment:
        rec = Recruitment(recruiter=self.name, profile_set=None)
        rng = self._rng(req.key)
        profile = self.profile
        if profile is None:
            rec.weights = {m: 1.0 / len(req.pool) for m in req.pool}
            rec.notes.append("no profile set: uniform weights")
            rec.drawn = self._select(rec.weights, req.k, rng)
            return rec
        rec.profile_set = profile.label
        profiled = [m for m in req.pool if m in profile.experts]
        unprofiled = [m for m in req.pool if m not in profile.experts]
        if unprofiled:
            rec.notes.append(f"not in profile set, not recruited: {', '.join(unprofiled)}")
        if not profiled:
            rec.weights = {m: 1.0 / len(req.pool) for m in req.pool}
            rec.notes.append("no expert of the pool is profiled: uniform weights")
            rec.drawn = self._select(rec.weights, req.k, rng)
            return rec
        rec.global_competence = {m: competence[m] for m in profiled}
        strength = dict(
            zip(
                profiled,
                normalize_to_probability([competence[m] for m in profiled], self.temperature),
                strict=True,
            )
        )
        local = {m: s for m, s in profile.local_suitability(req.skills).items() if m in strength}
        rec.local_suitability = local
        if not local:
            rec.weights = {m: 1.0 / len(profiled) for m in profiled}
            rec.notes.append("no profiled skill matched the query: uniform weights")
        else:
            rec.weights = candidate_weights(local, strength)
        rec.drawn = self._select(rec.weights, req.k, rng)
        return rec

    def _select(self, weights: dict[str, float], k: int, rng: random.Random) -> list[str]:
        if self.dynamic_k is not None:
            return top_p(weights, self.dynamic_k, k)
        return draw(weights, k, rng)
