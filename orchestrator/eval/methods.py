"""Evaluation methods: each is a recruiter plus an aggregation, run through the answering service.

Every method is built the same way, from (config, profile set, pool, seed); the names are
registered in `METHODS` (eval/config.py, with `Method`), which imports these functions on
first use."""

from __future__ import annotations

from orchestrator.eval.config import METHODS, EvalConfig, Method
from orchestrator.recruiters import (
    RECRUITERS,
    FixedRecruiter,
    RandomRecruiter,
    RecruiterOptions,
)
from skills.profiles import ProfileSet

__all__ = [
    "Method",
    "all_vote",
    "best_single",
    "build_method",
    "oracle",
    "random_k",
    "ranked_by_validation",
    "self_consistency",
    "symoe",
    "top_k",
]


def ranked_by_validation(profile: ProfileSet | None, pool: list[str]) -> list[str]:
    """Experts by validation accuracy, best first (pool order breaks ties; no profile: pool)."""
    if profile is None or not profile.accuracy:
        return list(pool)
    return sorted(pool, key=lambda m: -profile.accuracy.get(m, -1.0))


def build_method(
    name: str, config: EvalConfig, profile: ProfileSet | None, pool: list[str], seed: int
) -> Method:
    """The method registered as `name` (an unknown name: InputError naming the known ones)."""
    return METHODS.create(name, config, profile, pool, seed)


def _fixed(
    name: str, profile: ProfileSet | None, seed: int, committee: list[str], **extra: object
) -> Method:
    """A fixed committee answering by majority vote."""
    recruiter = FixedRecruiter(profile, seed, RecruiterOptions(committee=committee))
    return Method(name=name, recruiter=recruiter, aggregation="vote", k=len(committee), **extra)


def symoe(config: EvalConfig, profile: ProfileSet | None, pool: list[str], seed: int) -> Method:
    options = RecruiterOptions(dynamic_k=config.dynamic_k, min_share=config.min_share)
    recruiter = RECRUITERS.create(config.recruiter, profile, seed, options)
    return Method(
        name="symoe",
        recruiter=recruiter,
        aggregation=config.aggregation,
        k=config.k,
        deterministic=recruiter.deterministic,
        cascade=config.cascade,
    )


def random_k(config: EvalConfig, profile: ProfileSet | None, pool: list[str], seed: int) -> Method:
    recruiter = RandomRecruiter(profile, seed)
    return Method(name="random-k", recruiter=recruiter, aggregation="vote", k=config.k)


def best_single(
    config: EvalConfig, profile: ProfileSet | None, pool: list[str], seed: int
) -> Method:
    ranked = ranked_by_validation(profile, pool)
    return _fixed("best-single", profile, seed, ranked[:1], deterministic=True)


def top_k(config: EvalConfig, profile: ProfileSet | None, pool: list[str], seed: int) -> Method:
    ranked = ranked_by_validation(profile, pool)
    return _fixed("top-k", profile, seed, ranked[: config.k], deterministic=True)


def all_vote(config: EvalConfig, profile: ProfileSet | None, pool: list[str], seed: int) -> Method:
    return _fixed("all-vote", profile, seed, list(pool), deterministic=True)


def self_consistency(
    config: EvalConfig, profile: ProfileSet | None, pool: list[str], seed: int
) -> Method:
    # k samples of the best single expert; sampled (temperature 0.7) where the backend
    # samples, identical where it replays one recording.
    best = ranked_by_validation(profile, pool)[:1]
    return _fixed("self-consistency", profile, seed, best * config.k, temperature=0.7)


def oracle(config: EvalConfig, profile: ProfileSet | None, pool: list[str], seed: int) -> Method:
    label = "upper bound: right if any expert is right"
    return _fixed("oracle", profile, seed, list(pool), deterministic=True, label=label)
