"""The symbolic recruiter against hand-computed numbers."""

from __future__ import annotations

import random

import pytest

from orchestrator.recruiters import RecruiterOptions, RecruitRequest, SymbolicRecruiter
from orchestrator.recruiters.math import (
    candidate_weights,
    fold_rare,
    normalize_to_probability,
    top_p,
)
from skills.profiles import ProfileSet, SkillScore


def _profile() -> ProfileSet:
    def p(**scores: int) -> dict[str, SkillScore]:
        return {k: SkillScore(score=v, count=abs(v)) for k, v in scores.items()}

    return ProfileSet(
        name="hand",
        experts={
            "A": p(algebra=3, geometry=-1),  # G = 2
            "B": p(algebra=-2, history=4),  # G = 2
            "C": p(geometry=2, history=-5),  # G = -3
        },
    )


def test_global_strength_is_shifted_squared_and_normalised() -> None:
    # G = [2, 2, -3] -> shift to min 1: [6, 6, 1] -> square: [36, 36, 1] -> / 73
    assert normalize_to_probability([2, 2, -3], 0.5) == pytest.approx([36 / 73, 36 / 73, 1 / 73])
    # no negative value: no shift, a zero stays zero
    assert normalize_to_probability([0, 1, 3], 0.5) == pytest.approx([0, 1 / 10, 9 / 10])


def test_weights_for_positive_candidates_only() -> None:
    recruiter = SymbolicRecruiter(_profile(), seed=0)
    (plan,) = recruiter.recruit(
        [RecruitRequest(key="q", skills=["algebra", "geometry"], k=3, pool=["A", "B", "C"])]
    )
    # L_A = 3 - 1 = 2, L_B = -2, L_C = 2; candidates A, C; w = L * g = 72/73, 2/73 -> / (74/73)
    assert plan.local_suitability == {"A": 2.0, "B": -2.0, "C": 2.0}
    assert plan.weights == pytest.approx({"A": 72 / 74, "C": 2 / 74})
    assert plan.global_competence == {"A": 2.0, "B": 2.0, "C": -3.0}
    assert len(plan.drawn) == 3 and set(plan.drawn) <= {"A", "C"}


def test_all_negative_suitability_is_shifted() -> None:
    # L = {X: -3, Y: -1} -> shifted to {X: 1, Y: 3}; w = {0.5, 0.75} -> {0.4, 0.6}
    weights = candidate_weights({"X": -3, "Y": -1}, {"X": 0.5, "Y": 0.25})
    assert weights == pytest.approx({"X": 0.4, "Y": 0.6})


def test_seeded_draws_are_reproducible_and_independent_of_the_batch() -> None:
    reqs = [
        RecruitRequest(key=f"q{i}", skills=["algebra", "history"], k=3, pool=["A", "B", "C"])
        for i in range(20)
    ]
    first = [p.drawn for p in SymbolicRecruiter(_profile(), seed=7).recruit(reqs)]
    again = [p.drawn for p in SymbolicRecruiter(_profile(), seed=7).recruit(reqs)]
    alone = SymbolicRecruiter(_profile(), seed=7).recruit([reqs[5]])[0].drawn
    other_seed = [p.drawn for p in SymbolicRecruiter(_profile(), seed=8).recruit(reqs)]
    assert first == again
    assert alone == first[5]
    assert first != other_seed


def test_draw_frequencies_follow_weights() -> None:
    recruiter = SymbolicRecruiter(_profile(), seed=1)
    reqs = [
        RecruitRequest(key=f"q{i}", skills=["algebra", "geometry"], k=3, pool=["A", "B", "C"])
        for i in range(2000)
    ]
    drawn = [name for plan in recruiter.recruit(reqs) for name in plan.drawn]
    assert drawn.count("A") / len(drawn) == pytest.approx(72 / 74, abs=0.01)
    assert "B" not in drawn


def test_no_profile_means_uniform_and_the_trace_says_so() -> None:
    (plan,) = SymbolicRecruiter(None).recruit(
        [RecruitRequest(key="q", skills=[], k=2, pool=["A", "B"])]
    )
    assert plan.weights == {"A": 0.5, "B": 0.5}
    assert "no profile set: uniform weights" in plan.notes
    assert plan.profile_set is None


def test_no_matching_skill_falls_back_to_uniform_over_profiled() -> None:
    (plan,) = SymbolicRecruiter(_profile()).recruit(
        [RecruitRequest(key="q", skills=["poetry"], k=3, pool=["A", "B", "C", "new"])]
    )
    assert plan.weights == pytest.approx({"A": 1 / 3, "B": 1 / 3, "C": 1 / 3})
    assert any("not in profile set" in n for n in plan.notes)


def test_dynamic_k_takes_experts_until_the_mass_is_reached() -> None:
    assert top_p({"a": 0.5, "b": 0.3, "c": 0.2}, p=0.7, max_k=3) == ["a", "b"]
    assert top_p({"a": 0.9, "b": 0.1}, p=0.7, max_k=3) == ["a"]
    assert top_p({"a": 0.4, "b": 0.3, "c": 0.3}, p=1.0, max_k=2) == ["a", "b"]
    recruiter = SymbolicRecruiter(_profile(), options=RecruiterOptions(dynamic_k=0.9))
    (plan,) = recruiter.recruit(
        [RecruitRequest(key="q", skills=["algebra", "geometry"], k=3, pool=["A", "B", "C"])]
    )
    assert plan.drawn == ["A"]  # A alone holds 72/74 > 0.9 of the mass


def test_min_share_folds_rare_experts_into_frequent_ones() -> None:
    rows = [["a", "a", "b"]] * 9 + [["a", "c", "b"]]
    folded, replaced = fold_rare(rows, threshold=0.05, rng=random.Random(0))
    # c is 1 of 30 draws (3.3% < 5%): replaced by a or b; nothing else changes
    assert set(replaced) == {"c"}
    assert folded[:9] == rows[:9]
    assert "c" not in {n for row in folded for n in row}
    recruiter = SymbolicRecruiter(_profile(), options=RecruiterOptions(min_share=0.2))
    reqs = [
        RecruitRequest(key=f"q{i}", skills=["algebra", "geometry"], k=3, pool=["A", "B", "C"])
        for i in range(50)
    ]
    plans = recruiter.recruit(reqs)
    assert {n for p in plans for n in p.drawn} == {"A"}
    assert any("min_share" in note for p in plans for note in p.notes)
