"""The `diverse` recruiter: `ranked`, but each next expert is chosen by expected accuracy
less a penalty times its highest validation error correlation with those already chosen, so
a committee does not spend slots on experts that fail together. The penalty and the
correlations come from the profile set (`symoe profile build` chooses the penalty by
cross-validation, recruiters/diversity_fit.py); penalty 0 is `ranked`."""

from __future__ import annotations

from orchestrator.recruiters.ranked import RankedRecruiter
from orchestrator.trace import Recruitment
from skills.diversity import diverse_committee


class DiverseRecruiter(RankedRecruiter):
    name = "diverse"

    def select(self, ranked: list[str], expected: dict[str, float], k: int) -> list[str]:
        if self.profile is None:
            return ranked[:k]
        profile = self.profile
        return diverse_committee(expected, profile.error_correlation, ranked, k, profile.diversity)

    def explain(self, rec: Recruitment) -> None:
        if self.profile is not None:
            rec.notes.append(f"diversity penalty {self.profile.diversity:g} on error correlation")
