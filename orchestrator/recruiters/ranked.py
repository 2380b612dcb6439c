"""The `ranked` recruiter: the k experts with the highest expected accuracy on the query's
skills, deterministically (no draw with replacement, so no slot goes to a weak model twice).

Expected accuracy is the profile's per-skill validation accuracy shrunk toward the expert's
global accuracy by a Beta prior whose strength `symoe profile build` chose by
cross-validation (ProfileSet.expected_accuracy); the same numbers weight `logodds_vote`."""

from __future__ import annotations

from orchestrator.recruiters.base import Recruiter, RecruitRequest
from orchestrator.trace import Recruitment


class RankedRecruiter(Recruiter):
    name = "ranked"
    deterministic = True

    def recruit(self, requests: list[RecruitRequest]) -> list[Recruitment]:
        return [self._recruit_one(r) for r in requests]

    def _recruit_one(self, req: RecruitRequest) -> Recruitment:
        rec = Recruitment(recruiter=self.name, profile_set=None)
        profile = self.profile
        if profile is None:
            rec.weights = {m: 1.0 / len(req.pool) for m in req.pool}
            rec.drawn = list(req.pool[: req.k])
            rec.notes.append("no profile set: the first k of the pool")
            return rec
        rec.profile_set = profile.label
        expected = profile.expected_accuracy(req.skills)
        profiled = [m for m in req.pool if m in expected]
        unprofiled = [m for m in req.pool if m not in expected]
        if unprofiled:
            rec.notes.append(f"not in profile set, not recruited: {', '.join(unprofiled)}")
        if not profiled:
            rec.weights = {m: 1.0 / len(req.pool) for m in req.pool}
            rec.drawn = list(req.pool[: req.k])
            rec.notes.append("no expert of the pool is profiled: the first k of the pool")
            return rec
        rec.expected_accuracy = {m: round(expected[m], 6) for m in profiled}
        # best first; pool order breaks ties, so the ranking is reproducible
        ranked = sorted(profiled, key=lambda m: -expected[m])
        rec.drawn = self.select(ranked, expected, req.k)
        total = sum(expected[m] for m in profiled)
        rec.weights = {
            m: (expected[m] / total if total > 0 else 1.0 / len(profiled)) for m in profiled
        }
        self.explain(rec)
        if req.k > len(profiled):
            rec.notes.append(f"k={req.k} but {len(profiled)} profiled experts: all of them")
        return rec

    def select(self, ranked: list[str], expected: dict[str, float], k: int) -> list[str]:
        """The committee from the experts ranked best first."""
        return ranked[:k]

    def explain(self, rec: Recruitment) -> None:
        """Notes a subclass adds on how it chose."""
