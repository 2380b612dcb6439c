"""Builders for orchestration unit tests: scripted experts and a fixed-skill tagger."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from orchestrator.aggregators import all_aggregators
from orchestrator.answering import AnsweringService
from orchestrator.execution import PlanExecutor
from orchestrator.experts import Expert, ExpertRegistry
from orchestrator.plan import Plan, Query
from orchestrator.planner import Planner
from orchestrator.recruiters import SymbolicRecruiter
from orchestrator.retrieval import GateContext, NeverRetrieve
from orchestrator.runners import InProcessRunner, Runner
from orchestrator.stages import StageExecutor
from orchestrator.taggers import Tagger
from orchestrator.trace import Recruitment, RetrievalDecision, SkillTagging
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


AnsweringFactory = Callable[..., tuple[AnsweringService, ModelPool]]


def build_answering(
    registry: ExpertRegistry,
    runner: Runner,
    profile: ProfileSet | None = None,
    skills: list[str] | None = None,
    seed: int = 0,
) -> AnsweringService:
    """Answering on `runner` with a fixed tagger and the symbolic recruiter, storing nothing."""
    aggregators = all_aggregators()
    planner = Planner(
        registry=registry,
        tagger=FixedTagger(skills or []),
        gate=NeverRetrieve(GateContext(profile)),
        recruiter=SymbolicRecruiter(profile, seed=seed),
        aggregators=aggregators,
        profile=profile,
    )
    return AnsweringService(
        planner, PlanExecutor(registry, aggregators, lambda: StageExecutor(runner, registry))
    )


@pytest.fixture
def make_answering() -> AnsweringFactory:
    def build(
        experts: list[Expert],
        profile: ProfileSet | None = None,
        skills: list[str] | None = None,
        budget_mb: int = 10_000,
        seed: int = 0,
    ) -> tuple[AnsweringService, ModelPool]:
        pool = ModelPool(budget_mb)
        answering = build_answering(
            ExpertRegistry(experts), InProcessRunner(pool), profile, skills, seed
        )
        return answering, pool

    return build


HAND_MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


def hand_plan(
    drawn: list[str],
    aggregation: str = "vote",
    aggregator: str | None = None,
    text: str = HAND_MC,
    pool: list[str] | None = None,
    **weights: float,
) -> Plan:
    """A plan made by hand (no planner): its committee, aggregation and weights as given."""
    return Plan(
        query=Query(text=text),
        fmt="letter",
        tagging=SkillTagging(method="fixed"),
        retrieval=RetrievalDecision(),
        recruitment=Recruitment(
            recruiter="hand",
            profile_set=None,
            weights=dict(weights),
            drawn=drawn,
            aggregation=aggregation,
            aggregator=aggregator,
        ),
        pool=pool or sorted(set(drawn)),
    )
