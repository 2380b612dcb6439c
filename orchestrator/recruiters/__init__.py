"""Recruiter registry: names used by settings and the CLI."""

from __future__ import annotations

from orchestrator.errors import ConfigError
from orchestrator.recruiters.auto import AutoRecruiter
from orchestrator.recruiters.base import Recruiter, RecruiterOptions, RecruitRequest
from orchestrator.recruiters.diverse import DiverseRecruiter
from orchestrator.recruiters.fixed import FixedRecruiter, RandomRecruiter
from orchestrator.recruiters.ranked import RankedRecruiter
from orchestrator.recruiters.symbolic import SymbolicRecruiter
from workers.registry import Registry

# name (SYMOE_RECRUITER) -> class taking (profile set, seed, RecruiterOptions)
RECRUITERS: Registry[Recruiter] = Registry(
    "recruiter",
    {
        cls.name: cls
        for cls in (AutoRecruiter, SymbolicRecruiter, RankedRecruiter, DiverseRecruiter)
    },
    error=ConfigError,
)
# Baselines for evaluation, built the same way; not selectable as the serving recruiter.
BASELINE_RECRUITERS: Registry[Recruiter] = Registry(
    "baseline recruiter",
    {FixedRecruiter.name: FixedRecruiter, RandomRecruiter.name: RandomRecruiter},
    error=ConfigError,
)

__all__ = [
    "BASELINE_RECRUITERS",
    "RECRUITERS",
    "AutoRecruiter",
    "DiverseRecruiter",
    "FixedRecruiter",
    "RandomRecruiter",
    "RankedRecruiter",
    "RecruitRequest",
    "Recruiter",
    "RecruiterOptions",
    "SymbolicRecruiter",
]
