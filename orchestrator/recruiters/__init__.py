"""Recruiter registry: names used by settings and the CLI."""

from __future__ import annotations

from orchestrator.recruiters.base import Recruiter, RecruitRequest
from orchestrator.recruiters.fixed import FixedRecruiter, RandomRecruiter
from orchestrator.recruiters.symbolic import SymbolicRecruiter

RECRUITERS: dict[str, type[Recruiter]] = {
    SymbolicRecruiter.name: SymbolicRecruiter,
}
# Baselines for evaluation; not selectable as the serving recruiter.
BASELINE_RECRUITERS: dict[str, type[Recruiter]] = {
    FixedRecruiter.name: FixedRecruiter,
    RandomRecruiter.name: RandomRecruiter,
}

__all__ = [
    "BASELINE_RECRUITERS",
    "RECRUITERS",
    "FixedRecruiter",
    "RandomRecruiter",
    "RecruitRequest",
    "Recruiter",
    "SymbolicRecruiter",
]
