"""Evaluation methods: each is a recruiter plus an aggregation, run through the pipeline."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from orchestrator.errors import InputError
from orchestrator.eval.config import METHOD_NAMES, EvalConfig
from orchestrator.recruiters import FixedRecruiter, RandomRecruiter, Recruiter, SymbolicRecruiter
from skills.profiles import ProfileSet


class Method(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    recruiter: Recruiter
    aggregation: str
    k: int
    deterministic: bool = False
    temperature: float | None = None
    label: str = ""


def ranked_by_validation(profile: ProfileSet | None, pool: list[str]) -> list[str]:
    """Experts by validation accuracy, best first (pool order breaks ties; no profile: pool)."""
    if profile is None or not profile.accuracy:
        return list(pool)
    return sorted(pool, key=lambda m: -profile.accuracy.get(m, -1.0))


def build_method(
    name: str, config: EvalConfig, profile: ProfileSet | None, pool: list[str], seed: int
) -> Method:
    ranked = ranked_by_validation(profile, pool)
    k = config.k

    def fixed(committee: list[str], **extra: object) -> Method:
        """A fixed committee answering by majority vote."""
        recruiter = FixedRecruiter(profile, seed, committee)
        return Method(name=name, recruiter=recruiter, aggregation="vote", k=len(committee), **extra)

    if name == "symoe":
        recruiter: Recruiter = SymbolicRecruiter(
            profile, seed, dynamic_k=config.dynamic_k, min_share=config.min_share
        )
        return Method(name=name, recruiter=recruiter, aggregation=config.aggregation, k=k)
    if name == "random-k":
        return Method(name=name, recruiter=RandomRecruiter(profile, seed), aggregation="vote", k=k)
    if name == "best-single":
        return fixed(ranked[:1], deterministic=True)
    if name == "top-k":
        return fixed(ranked[:k], deterministic=True)
    if name == "all-vote":
        return fixed(list(pool), deterministic=True)
    if name == "self-consistency":
        # k samples of the best single expert; sampled (temperature 0.7) where the backend
        # samples, identical where it replays one recording.
        return fixed(ranked[:1] * k, temperature=0.7)
    if name == "oracle":
        return fixed(
            list(pool), deterministic=True, label="upper bound: right if any expert is right"
        )
    raise InputError(f"unknown method {name!r} (known: {', '.join(METHOD_NAMES)})")
