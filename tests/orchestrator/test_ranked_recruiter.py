"""The `ranked` recruiter against hand-computed expected accuracies."""

from __future__ import annotations

import pytest

from orchestrator.recruiters import (
    RECRUITERS,
    RankedRecruiter,
    RecruiterOptions,
    RecruitRequest,
    SymbolicRecruiter,
)
from orchestrator.trace import Recruitment
from skills.profiles import ProfileSet, SkillScore


def _profile() -> ProfileSet:
    # Expected accuracy on ["law"] at strength 2, (right + 2 * global) / (answered + 2):
    #   A: global 0.5, law 3 of 4 right  -> (3 + 1) / 6   = 2/3
    #   B: global 0.8, law 0 of 4 right  -> (0 + 1.6) / 6 = 0.2667
    #   C: global 0.6, no law record     -> 0.6
    #   E: global 0.6, no law record     -> 0.6 (ties with C)
    return ProfileSet(
        name="hand",
        smoothing=2.0,
        accuracy={"A": 0.5, "B": 0.8, "C": 0.6, "E": 0.6},
        experts={
            "A": {"law": SkillScore(score=2, count=4)},
            "B": {"law": SkillScore(score=-4, count=4)},
            "C": {"math": SkillScore(score=1, count=1)},
            "E": {"math": SkillScore(score=-1, count=1)},
        },
    )


EXPECTED = {"A": 2 / 3, "B": 1.6 / 6, "C": 0.6, "E": 0.6}


def _one(
    recruiter: RankedRecruiter, pool: list[str], k: int, skills: list[str] | None = None
) -> Recruitment:
    (plan,) = recruiter.recruit([RecruitRequest(key="q", skills=skills or ["law"], k=k, pool=pool)])
    return plan


def test_registered_and_deterministic() -> None:
    assert RECRUITERS.get("ranked") is RankedRecruiter
    assert "ranked" in RECRUITERS.names()
    made = RECRUITERS.create("ranked", _profile(), 3, RecruiterOptions())
    assert isinstance(made, RankedRecruiter)
    assert RankedRecruiter.deterministic is True
    assert SymbolicRecruiter.deterministic is False


def test_top_k_by_expected_accuracy_with_weights_and_expected_accuracy() -> None:
    plan = _one(RankedRecruiter(_profile()), pool=["B", "C", "A", "E"], k=2)
    assert plan.recruiter == "ranked"
    assert plan.profile_set == "hand@v1"
    assert plan.drawn == ["A", "C"]
    # rounded to 6 places in the trace
    assert plan.expected_accuracy == pytest.approx(EXPECTED, abs=1e-6)
    assert plan.expected_accuracy["B"] == 0.266667
    # weights: expected accuracy over the sum for the profiled pool, 2/3 + 0.2667 + 0.6 + 0.6
    total = sum(EXPECTED.values())
    assert plan.weights == pytest.approx({m: v / total for m, v in EXPECTED.items()})
    assert sum(plan.weights.values()) == pytest.approx(1.0)
    assert plan.notes == []
    assert _one(RankedRecruiter(_profile()), pool=["B", "C", "A", "E"], k=1).drawn == ["A"]
    assert _one(RankedRecruiter(_profile()), pool=["B", "C", "A", "E"], k=4).drawn == [
        "A",
        "C",
        "E",
        "B",
    ]


def test_ties_are_broken_by_pool_order() -> None:
    # C and E both expect 0.6
    assert _one(RankedRecruiter(_profile()), pool=["A", "C", "E"], k=2).drawn == ["A", "C"]
    assert _one(RankedRecruiter(_profile()), pool=["A", "E", "C"], k=2).drawn == ["A", "E"]
    assert _one(RankedRecruiter(_profile()), pool=["E", "C"], k=1).drawn == ["E"]


def test_the_query_skills_change_the_ranking() -> None:
    # on ["math"]: A and B have no record -> 0.5 and 0.8; C (1 + 1.2) / 3 = 0.7333;
    # E (0 + 1.2) / 3 = 0.4
    plan = _one(RankedRecruiter(_profile()), pool=["A", "B", "C", "E"], k=2, skills=["math"])
    assert plan.expected_accuracy == pytest.approx(
        {"A": 0.5, "B": 0.8, "C": 2.2 / 3, "E": 0.4}, abs=1e-6
    )
    assert plan.drawn == ["B", "C"]


def test_k_larger_than_the_profiled_pool_takes_all_with_a_note() -> None:
    plan = _one(RankedRecruiter(_profile()), pool=["E", "B", "A"], k=5)
    assert plan.drawn == ["A", "E", "B"]
    assert len(set(plan.drawn)) == len(plan.drawn)  # no expert twice
    assert plan.notes == ["k=5 but 3 profiled experts: all of them"]


def test_unprofiled_experts_are_not_recruited() -> None:
    plan = _one(RankedRecruiter(_profile()), pool=["new", "C", "A", "other"], k=3)
    assert plan.drawn == ["A", "C"]
    assert set(plan.weights) == {"A", "C"}
    assert set(plan.expected_accuracy) == {"A", "C"}
    assert plan.notes == [
        "not in profile set, not recruited: new, other",
        "k=3 but 2 profiled experts: all of them",
    ]


def test_profiled_experts_outside_the_pool_are_not_recruited() -> None:
    plan = _one(RankedRecruiter(_profile()), pool=["B", "E"], k=2)
    assert plan.drawn == ["E", "B"]
    assert set(plan.expected_accuracy) == {"B", "E"}
    total = EXPECTED["B"] + EXPECTED["E"]  # 0.2667 + 0.6
    assert plan.weights == pytest.approx({"B": EXPECTED["B"] / total, "E": 0.6 / total})


def test_a_pool_with_no_profiled_expert_takes_the_first_k() -> None:
    plan = _one(RankedRecruiter(_profile()), pool=["x", "y", "z"], k=2)
    assert plan.drawn == ["x", "y"]
    assert plan.weights == pytest.approx({"x": 1 / 3, "y": 1 / 3, "z": 1 / 3})
    assert plan.expected_accuracy == {}
    assert plan.notes == [
        "not in profile set, not recruited: x, y, z",
        "no expert of the pool is profiled: the first k of the pool",
    ]


def test_no_profile_set_takes_the_first_k_of_the_pool() -> None:
    plan = _one(RankedRecruiter(None), pool=["p", "q", "r", "s"], k=3)
    assert plan.drawn == ["p", "q", "r"]
    assert plan.weights == {"p": 0.25, "q": 0.25, "r": 0.25, "s": 0.25}
    assert plan.profile_set is None
    assert plan.expected_accuracy == {}
    assert plan.notes == ["no profile set: the first k of the pool"]


def test_the_same_committee_whatever_the_seed_or_batch() -> None:
    reqs = [
        RecruitRequest(
            key=f"q{i}", skills=[["law"], ["math"]][i % 2], k=2, pool=["A", "B", "C", "E"]
        )
        for i in range(10)
    ]
    first = RankedRecruiter(_profile(), seed=0).recruit(reqs)
    other = RankedRecruiter(_profile(), seed=7).recruit(reqs)
    assert [p.drawn for p in first] == [p.drawn for p in other]
    assert [p.drawn for p in first] == [["A", "C"], ["B", "C"]] * 5
    alone = RankedRecruiter(_profile(), seed=3).recruit([reqs[3]])[0]
    assert alone == first[3]
