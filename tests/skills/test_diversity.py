"""Error correlation between experts and the greedy diverse committee, by hand."""

from __future__ import annotations

import math

import pytest

from skills.diversity import diverse_committee, error_correlation
from skills.profiles import GradedAnswer


def _graded(expert: str, wrong: str) -> list[GradedAnswer]:
    """One answer per question q0..q3; `wrong` marks the questions it got wrong (1)."""
    return [
        GradedAnswer(expert=expert, question_id=f"q{i}", skills=["x"], correct=w == "0")
        for i, w in enumerate(wrong)
    ]


def test_phi_of_errors_by_hand() -> None:
    graded = _graded("a", "1100") + _graded("b", "1100") + _graded("c", "0011")
    graded += _graded("d", "1000") + _graded("never", "0000")
    corr = error_correlation(graded)
    assert corr["a"]["b"] == corr["b"]["a"] == pytest.approx(1.0)  # fail together
    assert corr["a"]["c"] == pytest.approx(-1.0)  # never together
    # a = 1100, d = 1000: means 1/2 and 1/4, cov = (1/4 - 1/8) = 1/8,
    # var = 1/2 * 1/2 * 1/4 * 3/4 = 3/64, phi = (1/8) / sqrt(3/64) = 1/sqrt(3)
    assert corr["a"]["d"] == pytest.approx(1 / math.sqrt(3), abs=1e-6)
    assert corr["a"]["never"] == 0.0  # no variation: nothing to correlate
    assert "a" not in corr["a"]


def test_only_questions_both_answered_count() -> None:
    graded = [
        *_graded("a", "10"),
        GradedAnswer(expert="b", question_id="q0", skills=[], correct=False),
        GradedAnswer(expert="b", question_id="other", skills=[], correct=True),
    ]
    # one common question: no variation
    assert error_correlation(graded)["a"]["b"] == 0.0


def test_the_penalty_trades_accuracy_for_different_errors() -> None:
    expected = {"a": 0.70, "twin": 0.69, "other": 0.60}
    corr = {"a": {"twin": 0.9, "other": 0.1}, "twin": {"a": 0.9, "other": 0.1}}
    corr["other"] = {"a": 0.1, "twin": 0.1}
    ranked = ["a", "twin", "other"]
    assert diverse_committee(expected, corr, ranked, 2, 0.0) == ["a", "twin"]  # top-k
    # strength 0.5: twin 0.69 - 0.45 = 0.24 < other 0.60 - 0.05 = 0.55
    assert diverse_committee(expected, corr, ranked, 2, 0.5) == ["a", "other"]
    # the first is always the most accurate; k beyond the candidates: all of them
    assert diverse_committee(expected, corr, ranked, 5, 0.5) == ["a", "other", "twin"]


def test_ties_follow_the_candidates_order() -> None:
    expected = {"x": 0.5, "y": 0.5}
    assert diverse_committee(expected, {}, ["y", "x"], 1, 0.3) == ["y"]
