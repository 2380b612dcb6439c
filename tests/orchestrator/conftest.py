"""Builders for orchestration unit tests: scripted experts and a fixed-skill tagger."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from orchestrator.aggregators import AGGREGATORS
from orchestrator.experts import Expert, ExpertRegistry
from orchestrator.pipeline import Pipeline
from orchestrator.recruiters import SymbolicRecruiter
from orchestrator.runners import InProcessRunner, Runner
from orchestrator.stages import StageExecutor
from orchestrator.taggers import Tagger
from orchestrator.trace import SkillTagging
from skills.profiles import ProfileSet
from workers.pool import ModelPool


class FixedTagger(Tagger):
    """Tags every question with the same skills (no embeddings needed)."""

    name = "fixed"

    def __init__(self, skills: list[str]) -> None:
        self.skills = skills

    def tag(
        self, keys: list[str], questions: list[str], stages: StageExecutor
    ) -> list[SkillTagging]:
        return [SkillTagging(method=self.name, skills=list(self.skills)) for _ in keys]


def scripted_expert(name: str, default: str = "The answer is (A).", **kw: object) -> Expert:
    return Expert.model_validate(
        {
            "name": name,
            "backend": "scripted",
            "model": f"scripted/{name}",
            "roles": ["expert", "aggregator"],
            "options": {"default": default},
            **kw,
        }
    )


PipelineFactory = Callable[..., tuple[Pipeline, ModelPool]]


def build_pipeline(
    registry: ExpertRegistry,
    runner: Runner,
    profile: ProfileSet | None = None,
    skills: list[str] | None = None,
    seed: int = 0,
    spec_options: dict[str, object] | None = None,
) -> Pipeline:
    """A pipeline on `runner` with a fixed tagger and the symbolic recruiter."""
    return Pipeline(
        registry=registry,
        tagger=FixedTagger(skills or []),
        recruiter=SymbolicRecruiter(profile, seed=seed),
        aggregators={n: cls() for n, cls in AGGREGATORS.items()},
        new_stages=lambda: StageExecutor(runner, registry, spec_options or {}),
        profile=profile,
    )


@pytest.fixture
def make_pipeline() -> PipelineFactory:
    def build(
        experts: list[Expert],
        profile: ProfileSet | None = None,
        skills: list[str] | None = None,
        budget_mb: int = 10_000,
        seed: int = 0,
    ) -> tuple[Pipeline, ModelPool]:
        pool = ModelPool(budget_mb)
        pipeline = build_pipeline(
            ExpertRegistry(experts), InProcessRunner(pool), profile, skills, seed
        )
        return pipeline, pool

    return build
