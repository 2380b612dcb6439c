"""The default recruiter and aggregation, `auto`: the method chosen on validation data
(ranked + learned) where the profile set carries fitted weights, else the reference
(symbolic + llm). Also the cascade's settings and request fields."""

from __future__ import annotations

import pytest

from orchestrator.aggregators import AGGREGATORS, all_aggregators, resolve_aggregation
from orchestrator.aggregators.answer_features import FEATURES
from orchestrator.api.answers.schemas import AnswerRequest
from orchestrator.execution import PlanExecutor
from orchestrator.experts import ExpertRegistry
from orchestrator.options import RequestedOptions, batch_options
from orchestrator.plan import BatchOptions, Query
from orchestrator.planner import Planner
from orchestrator.recruiters import RECRUITERS, AutoRecruiter, RecruitRequest
from orchestrator.retrieval import GateContext, NeverRetrieve
from orchestrator.runners import InProcessRunner
from orchestrator.settings import Settings
from orchestrator.stages import StageExecutor
from skills.profiles import ProfileSet, SkillScore, StackerWeights
from workers.pool import ModelPool

from .conftest import FixedTagger, scripted_expert

MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


def _profile(fitted: bool) -> ProfileSet:
    stacker = StackerWeights(
        features=list(FEATURES),
        # "right" is trusted, "wrong" counts against its own answer
        experts={"right": [2.0, 0, 0, 0, 0], "wrong": [-1.0, 0, 0, 0, 0], "meh": [0.5, 0, 0, 0, 0]},
    )
    return ProfileSet(
        name="p",
        experts={
            "right": {"math": SkillScore(score=8, count=10)},
            "wrong": {"math": SkillScore(score=-8, count=10)},
            "meh": {"math": SkillScore(score=0, count=10)},
        },
        accuracy={"right": 0.9, "wrong": 0.1, "meh": 0.5},
        stacker=stacker if fitted else None,
    )


def test_the_settings_default_to_auto() -> None:
    settings = Settings()
    assert (settings.recruiter, settings.aggregation, settings.cascade) == ("auto", "auto", False)
    assert "auto" in RECRUITERS.names() and "auto" in AGGREGATORS.names()


@pytest.mark.parametrize(
    ("fitted", "recruiter", "aggregation"),
    [
        (True, "ranked", "learned"),
        (False, "symbolic", "llm"),
    ],
)
def test_auto_is_the_chosen_method_only_where_the_profile_set_supports_it(
    fitted: bool, recruiter: str, aggregation: str
) -> None:
    profile = _profile(fitted)
    auto = AutoRecruiter(profile, seed=0)
    assert auto.chosen == recruiter
    [rec] = auto.recruit(
        [RecruitRequest(key="q", skills=["math"], k=2, pool=["right", "wrong", "meh"])]
    )
    assert rec.recruiter == recruiter
    assert resolve_aggregation("auto", profile) == aggregation
    assert resolve_aggregation("vote", profile) == "vote"  # a named policy is kept


def test_without_a_profile_set_auto_is_the_reference() -> None:
    assert AutoRecruiter(None).chosen == "symbolic"
    assert resolve_aggregation("auto", None) == "llm"


def test_auto_is_never_run_unresolved() -> None:
    with pytest.raises(RuntimeError, match="resolved by the planner"):
        AGGREGATORS.create("auto").aggregate(None, False)  # type: ignore[arg-type]


def test_a_planned_and_answered_query_names_the_resolved_policy() -> None:
    experts = [
        scripted_expert("right", default="The answer is (B)."),
        scripted_expert("wrong", default="The answer is (A)."),
        scripted_expert("meh", default="The answer is (A)."),
    ]
    registry = ExpertRegistry(experts)
    profile = _profile(fitted=True)
    aggregators = all_aggregators()
    planner = Planner(
        registry=registry,
        tagger=FixedTagger(["math"]),
        gate=NeverRetrieve(GateContext(profile)),
        recruiter=AutoRecruiter(profile, seed=0),
        aggregators=aggregators,
        profile=profile,
    )
    runner = InProcessRunner(ModelPool(1000))
    executor = PlanExecutor(registry, aggregators, lambda: StageExecutor(runner, registry))
    stages = StageExecutor(runner, registry)
    options = BatchOptions(k=3, aggregation="auto")
    plans = planner.plan([Query(text=MC)], options, stages)
    assert plans[0].recruitment.recruiter == "ranked"
    assert plans[0].aggregation == "learned"
    assert plans[0].stacker is profile.stacker
    [trace] = executor.execute(plans, options, stages).traces
    # a plain vote says (A) two to one; the fitted weights trust "right": 2.0 > -1.0 + 0.5
    assert trace.extracted_answer == "B"


def test_cascade_comes_from_the_request_else_the_settings() -> None:
    on = Settings(cascade=True)
    assert batch_options(on, RequestedOptions()).cascade is True
    assert batch_options(on, RequestedOptions(cascade=False)).cascade is False
    assert batch_options(Settings(), RequestedOptions(cascade=True)).cascade is True


def test_an_api_request_may_ask_for_the_cascade() -> None:
    body = AnswerRequest(question=MC, cascade=True)
    requested = RequestedOptions.model_validate(
        body.model_dump(include=set(RequestedOptions.model_fields))
    )
    assert requested.cascade is True
