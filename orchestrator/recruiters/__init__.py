"""Recruiter registry: names used by settings and the CLI."""

from __future__ import annotations

from orchestrator.recruiters.base import Recruiter, RecruitRequest
from orchestrator.recruiters.symbolic import SymbolicRecruiter

RECRUITERS: dict[str, type[Recruiter]] = {
    SymbolicRecruiter.name: SymbolicRecruiter,
}

__all__ = ["RECRUITERS", "RecruitRequest", "Recruiter", "SymbolicRecruiter"]
