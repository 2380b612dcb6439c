"""build_profile_set on scripted experts: signed skill scores and accuracy from graded
answers, the aggregator chosen by the synthetic aggregator benchmark, progress by chunk."""

from __future__ import annotations

from orchestrator.benchmarks import BenchItem
from orchestrator.experts import Expert, ExpertRegistry
from orchestrator.profiling import build_profile_set
from orchestrator.runners import InProcessRunner
from orchestrator.stages import StageExecutor
from orchestrator.taggers import PrecomputedTagger
from orchestrator.trace import SkillTagging
from skills.profiles import ProfileSet, SkillScore
from tests.orchestrator.conftest import scripted_expert
from workers.pool import ModelPool
from workers.types import GenerationParams

ITEMS = [
    BenchItem(
        id="p1",
        question="<p1> Which is a noble gas? (A) O2 (B) neon (C) iron",
        answer="B",
        fmt="letter",
    ),
    BenchItem(
        id="p2",
        question="<p2> What has no charge? (A) ion (B) proton (C) neutron",
        answer="C",
        fmt="letter",
    ),
    BenchItem(
        id="p3",
        question="<p3> Is a verbal contract binding? (A) often (B) never",
        answer="A",
        fmt="letter",
    ),
]
SKILLS = {"p1": ["chemistry"], "p2": ["chemistry", "physics", "chemistry"], "p3": ["law"]}


def _experts() -> list[Expert]:
    right = {f"<{i.id}>": f"The answer is ({i.answer})." for i in ITEMS}
    # base is a completion model: it answers right only when given the completion form of a
    # prompt (the question followed by "Answer:", or "Best answer:" when it aggregates), and
    # as an expert only on p1 and p2.
    base = {f"{i.question}\nAnswer:": f"The answer is ({i.answer})." for i in ITEMS[:2]}
    base |= {f"{i.question}\nBest answer:": f"The answer is ({i.answer})." for i in ITEMS}
    return [
        scripted_expert("sharp", options={"responses": right}),
        scripted_expert("dull", default="The answer is (D)."),
        scripted_expert(
            "base",
            chat_format="completion",
            options={"responses": base, "default": "The answer is (D)."},
        ),
    ]


def _build(
    experts: list[str], aggregators: list[str], chunk: int = 32
) -> tuple[ProfileSet, StageExecutor, ModelPool, list[tuple[str, int]]]:
    pool = ModelPool(10_000)
    stages = StageExecutor(InProcessRunner(pool), ExpertRegistry(_experts()))
    progress: list[tuple[str, int]] = []
    tagger = PrecomputedTagger({k: SkillTagging(method="llm", skills=v) for k, v in SKILLS.items()})
    profile = build_profile_set(
        items=ITEMS,
        experts=experts,
        aggregators=aggregators,
        completion_experts={"base"},
        tagger=tagger,
        stages=stages,
        params=lambda _: GenerationParams(max_tokens=32),
        name="unit",
        benchmark="toy",
        split="validation",
        command="symoe profile build --benchmark toy",
        chunk=chunk,
        progress=lambda phase, n: progress.append((phase, n)),
    )
    return profile, stages, pool, progress


def test_skill_scores_and_accuracy_come_from_the_graded_answers() -> None:
    profile, _, _, _ = _build(["sharp", "dull", "base"], ["dull", "sharp"])
    # +1 per skill of a right answer, -1 of a wrong one; p2's repeated skill counts once
    assert profile.experts == {
        "sharp": {
            "chemistry": SkillScore(score=2, count=2),
            "physics": SkillScore(score=1, count=1),
            "law": SkillScore(score=1, count=1),
        },
        "dull": {
            "chemistry": SkillScore(score=-2, count=2),
            "physics": SkillScore(score=-1, count=1),
            "law": SkillScore(score=-1, count=1),
        },
        "base": {
            "chemistry": SkillScore(score=2, count=2),
            "physics": SkillScore(score=1, count=1),
            "law": SkillScore(score=-1, count=1),
        },
    }
    assert profile.accuracy == {"sharp": 1.0, "dull": 0.0, "base": 2 / 3}
    assert (profile.name, profile.benchmark, profile.split) == ("unit", "toy", "validation")
    assert profile.command == "symoe profile build --benchmark toy"
    assert profile.tagger == "precomputed"
    assert profile.questions == 3


def test_the_aggregator_that_recovers_the_right_answer_most_often_is_chosen() -> None:
    profile, stages, _, _ = _build(["sharp", "dull", "base"], ["dull", "sharp"])
    assert profile.aggregator_scores == {"default": {"dull": 0.0, "sharp": 1.0}}
    assert profile.aggregators == {"default": "sharp"}
    assert [t.stage for t in stages.timings] == ["experts", "aggregate"]


def test_a_completion_aggregator_gets_the_completion_prompt_and_ties_go_to_the_first() -> None:
    profile, _, _, _ = _build(["sharp", "dull", "base"], ["dull", "base", "sharp"])
    assert profile.aggregator_scores == {"default": {"dull": 0.0, "base": 1.0, "sharp": 1.0}}
    assert profile.aggregators == {"default": "base"}


def test_chunks_report_progress_and_each_model_loads_once() -> None:
    _, stages, pool, progress = _build(["sharp", "dull", "base"], ["dull", "sharp"], chunk=2)
    assert progress == [
        ("tag", 2),
        ("tag", 1),
        ("experts", 2),
        ("experts", 1),
        ("fit", 1),
        ("aggregators", 1),
    ]
    assert [t.stage for t in stages.timings] == ["experts", "experts", "aggregate"]
    assert pool.stats.loads_by_model == {"sharp": 1, "dull": 1, "base": 1}


def test_without_a_right_and_a_wrong_answer_the_first_aggregator_is_kept() -> None:
    # sharp alone answers every item right: no synthetic item can be made
    profile, stages, _, _ = _build(["sharp"], ["dull", "sharp"])
    assert profile.aggregators == {"default": "dull"}
    assert profile.aggregator_scores == {}
    assert [t.stage for t in stages.timings] == ["experts"]  # no aggregate stage ran

    no_aggregators, _, _, _ = _build(["sharp", "dull"], [])
    assert no_aggregators.aggregators == {"default": ""}
    assert no_aggregators.aggregator_scores == {}
