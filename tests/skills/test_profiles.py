from __future__ import annotations

from pathlib import Path

import pytest

from skills.profiles import GradedAnswer, ProfileSet, SkillScore, build_profiles
from skills.tagging import parse_keywords, recurring_keywords


def test_signed_counts_from_a_small_graded_set() -> None:
    graded = [
        GradedAnswer(expert="m1", question_id="1", skills=["algebra", "geometry"], correct=True),
        GradedAnswer(expert="m1", question_id="2", skills=["algebra"], correct=False),
        GradedAnswer(expert="m1", question_id="3", skills=["algebra", "algebra"], correct=True),
        GradedAnswer(expert="m2", question_id="1", skills=["algebra", "geometry"], correct=False),
    ]
    experts, accuracy = build_profiles(graded)
    assert experts["m1"] == {
        "algebra": SkillScore(score=1, count=3),
        "geometry": SkillScore(score=1, count=1),
    }
    assert experts["m2"] == {
        "algebra": SkillScore(score=-1, count=1),
        "geometry": SkillScore(score=-1, count=1),
    }
    assert accuracy == {"m1": pytest.approx(2 / 3), "m2": 0.0}
    profile = ProfileSet(name="p", experts=experts)
    assert profile.global_competence() == {"m1": 2.0, "m2": -2.0}
    assert profile.local_suitability(["geometry", "poetry"]) == {"m1": 1.0, "m2": -1.0}


def test_profile_set_round_trip_and_errors(tmp_path: Path) -> None:
    profile = ProfileSet(name="p", experts={"m": {"x": SkillScore(score=2, count=2)}})
    path = tmp_path / "p.json"
    profile.save(path)
    assert ProfileSet.load(path) == profile
    path.write_text("{not json")
    with pytest.raises(ValueError, match="malformed profile set"):
        ProfileSet.load(path)
    with pytest.raises(ValueError, match="profile set not found"):
        ProfileSet.load(tmp_path / "missing.json")


def test_keyword_parsing_and_recurrence() -> None:
    assert parse_keywords("Sure!\nKeywords: Algebra, number theory., - Geometry") == [
        "algebra",
        "number theory",
        "geometry",
    ]
    assert parse_keywords("calculus, limits") == ["calculus", "limits"]
    listed = "1. Genetics (2)\n2. Molecular biology\n* The key points to solve are"
    assert parse_keywords(listed) == ["genetics", "molecular biology"]
    samples = [
        ["algebra", "geometry"],
        ["algebra", "a very long keyword phrase"],
        ["geometry", "a very long keyword phrase", "algebra"],
    ]
    assert recurring_keywords(samples) == ["algebra", "geometry"]
    assert recurring_keywords([["physics"]]) == ["physics"]
