"""Beta-smoothed per-skill accuracy (skills/profiles.py `smoothed`,
ProfileSet.expected_accuracy) and the cross-validated choice of its strength
(skills/smoothing.py), against hand-computed numbers and synthetic graded answers."""

from __future__ import annotations

import hashlib
import math
import random
from pathlib import Path

import pytest

from skills.profiles import (
    DEFAULT_SMOOTHING,
    GradedAnswer,
    ProfileSet,
    SkillScore,
    build_profiles,
    smoothed,
)
from skills.smoothing import STRENGTHS, choose_smoothing, fold_of


def test_smoothed_shrinks_a_skill_toward_the_global_accuracy() -> None:
    law = SkillScore(score=2, count=4)  # 3 right, 1 wrong
    # (3 + 2 * 0.5) / (4 + 2) = 4 / 6
    assert smoothed(law, prior=0.5, strength=2) == pytest.approx(4 / 6)
    # strength 0: the raw per-skill accuracy 3 / 4
    assert smoothed(law, prior=0.5, strength=0) == pytest.approx(0.75)
    # a huge strength: the prior
    assert smoothed(law, prior=0.5, strength=1e9) == pytest.approx(0.5, abs=1e-6)
    # all wrong: (0 + 10 * 0.8) / (2 + 10) = 8 / 12
    assert smoothed(SkillScore(score=-2, count=2), 0.8, 10) == pytest.approx(8 / 12)
    # nothing answered and no prior weight: the prior, not a division by zero
    assert smoothed(SkillScore(score=0, count=0), prior=0.3, strength=0) == 0.3


def _hand_profile(smoothing: float = 2.0) -> ProfileSet:
    return ProfileSet(
        name="hand",
        smoothing=smoothing,
        accuracy={"m": 0.5, "n": 0.8},
        experts={
            "m": {"law": SkillScore(score=2, count=4), "math": SkillScore(score=-2, count=2)},
            "n": {"math": SkillScore(score=1, count=1)},
        },
    )


def test_expected_accuracy_of_one_skill_several_skills_and_none() -> None:
    profile = _hand_profile()
    # m/law: (3 + 1) / (4 + 2) = 2/3; n has no law record: its global 0.8
    assert profile.expected_accuracy(["law"]) == pytest.approx({"m": 2 / 3, "n": 0.8})
    # m/math: (0 + 1) / (2 + 2) = 1/4, averaged with law: (2/3 + 1/4) / 2 = 11/24
    # n/math: (1 + 1.6) / (1 + 2) = 2.6 / 3
    both = {"m": 11 / 24, "n": 2.6 / 3}
    assert profile.expected_accuracy(["law", "math"]) == pytest.approx(both)
    # a repeated skill counts once
    assert profile.expected_accuracy(["law", "math", "law"]) == pytest.approx(both)
    # no skill on record: the global accuracy
    assert profile.expected_accuracy(["poetry"]) == pytest.approx({"m": 0.5, "n": 0.8})
    assert profile.expected_accuracy([]) == pytest.approx({"m": 0.5, "n": 0.8})
    # skills not on record are left out of the average, not counted at the global accuracy
    assert profile.expected_accuracy(["law", "poetry"]) == pytest.approx({"m": 2 / 3, "n": 0.8})


def test_expected_accuracy_uses_the_sets_strength_and_a_missing_global_is_zero() -> None:
    assert ProfileSet(name="p").smoothing == DEFAULT_SMOOTHING == 10.0
    raw = _hand_profile(smoothing=0.0)
    assert raw.expected_accuracy(["law"])["m"] == pytest.approx(0.75)
    no_global = ProfileSet(
        name="p", smoothing=2, experts={"x": {"law": SkillScore(score=2, count=2)}}
    )
    # (2 + 2 * 0) / (2 + 2)
    assert no_global.expected_accuracy(["law"]) == pytest.approx({"x": 0.5})
    assert no_global.expected_accuracy(["math"]) == {"x": 0.0}


def test_fold_of_is_a_stable_hash_of_the_question_id() -> None:
    for qid in ("q1", "MMLU_Pro-train-17", "72", ""):
        expected = int(hashlib.sha1(qid.encode()).hexdigest(), 16) % 5
        assert fold_of(qid, 5) == expected
        assert fold_of(qid, 5) == fold_of(qid, 5)
    folds = [fold_of(f"q{i}", 5) for i in range(500)]
    assert set(folds) == {0, 1, 2, 3, 4}
    assert all(60 <= folds.count(f) <= 140 for f in range(5))  # roughly even
    assert {fold_of(f"q{i}", 1) for i in range(20)} == {0}


def test_all_answers_to_one_question_fall_in_one_fold() -> None:
    graded = [
        GradedAnswer(expert=e, question_id=f"q{i}", skills=["law"], correct=(i + j) % 2 == 0)
        for i in range(40)
        for j, e in enumerate(("m1", "m2", "m3"))
    ]
    fold_by_question: dict[str, set[int]] = {}
    for g in graded:
        fold_by_question.setdefault(g.question_id, set()).add(fold_of(g.question_id, 5))
    assert all(len(folds) == 1 for folds in fold_by_question.values())


def _noise(seed: int = 0) -> list[GradedAnswer]:
    """Skill does not matter: each expert is right with one probability whatever the skill,
    over 30 skills of 10 questions each, so per-skill accuracies differ only by chance."""
    rng = random.Random(seed)
    graded = []
    for q in range(300):
        for expert, p in (("m1", 0.6), ("m2", 0.4)):
            graded.append(
                GradedAnswer(
                    expert=expert,
                    question_id=f"q{q}",
                    skills=[f"s{q % 30}"],
                    correct=rng.random() < p,
                )
            )
    return graded


def _skill_matters(seed: int = 0) -> list[GradedAnswer]:
    """m1 is right on law 95% of the time and on math 10%; m2 the reverse. Globally both
    are near 50%, so shrinking toward the global accuracy throws the signal away."""
    rng = random.Random(seed)
    graded = []
    for q in range(200):
        skill = "law" if q % 2 else "math"
        for expert, good_at in (("m1", "law"), ("m2", "math")):
            p = 0.95 if skill == good_at else 0.1
            graded.append(
                GradedAnswer(
                    expert=expert, question_id=f"q{q}", skills=[skill], correct=rng.random() < p
                )
            )
    return graded


def test_noise_between_skills_gets_a_strong_prior() -> None:
    best, scores = choose_smoothing(_noise())
    assert best >= 50
    # the raw per-skill accuracy (strength 0) predicts held-out answers worst
    assert scores["0"] == min(scores.values())
    assert scores[f"{best:g}"] == max(scores.values())


def test_a_skill_that_matters_gets_a_weak_prior() -> None:
    best, scores = choose_smoothing(_skill_matters())
    assert best <= 5
    # the global accuracy alone (a huge prior) is clearly worse
    assert scores["1e+06"] < scores[f"{best:g}"] - 0.2
    assert scores[f"{best:g}"] == max(scores.values())


def test_a_score_for_every_candidate_keyed_by_its_short_repr() -> None:
    graded = _skill_matters()
    best, scores = choose_smoothing(graded)
    assert best in STRENGTHS
    assert set(scores) == {"0", "1", "2", "5", "10", "20", "50", "100", "1e+06"}
    for strength in STRENGTHS:
        key = f"{strength:g}"
        # a candidate's score does not depend on the others scored with it
        assert choose_smoothing(graded, strengths=(strength,)) == (strength, {key: scores[key]})
        assert scores[key] < 0  # a mean log-likelihood
    custom_best, custom = choose_smoothing(graded, strengths=(0.5, 3.0))
    assert set(custom) == {"0.5", "3"}
    assert custom_best in (0.5, 3.0)


def test_ties_go_to_the_stronger_prior() -> None:
    # Every answer right: every strength predicts p = 1, clipped to 0.999.
    graded = [
        GradedAnswer(expert=e, question_id=f"q{i}", skills=[f"s{i % 3}"], correct=True)
        for i in range(30)
        for e in ("m1", "m2")
    ]
    best, scores = choose_smoothing(graded, strengths=(0.0, 2.0, 7.0))
    assert best == 7.0
    assert scores == {k: round(math.log(1 - 1e-3), 6) for k in ("0", "2", "7")}


def _held_out(graded: list[GradedAnswer], strength: float, folds: int) -> float:
    """One strength's held-out mean log-likelihood, as choose_smoothing reports it."""
    _, scores = choose_smoothing(graded, strengths=(strength,), folds=folds)
    return scores[f"{strength:g}"]


def test_held_out_log_likelihood_by_hand_with_two_folds() -> None:
    # Pick two question ids in different folds of 2, so each fold trains on the other.
    ids = [f"q{i}" for i in range(20)]
    a = next(q for q in ids if fold_of(q, 2) == 0)
    b = next(q for q in ids if fold_of(q, 2) == 1)
    graded = [
        GradedAnswer(expert="m", question_id=a, skills=["law"], correct=True),
        GradedAnswer(expert="m", question_id=b, skills=["law"], correct=False),
    ]
    # fold 0 tests a, trained on b: law (0 right of 1), global 0 -> p = 0 -> clipped 0.001,
    # a was right: log(0.001). fold 1 tests b, trained on a: p = 1 -> 0.999, b was wrong:
    # log(0.001). Whatever the strength, the prior equals the skill's accuracy here.
    for strength in (0.0, 5.0):
        assert _held_out(graded, strength, folds=2) == pytest.approx(math.log(1e-3), abs=1e-6)


def test_an_expert_unseen_in_training_is_predicted_at_one_half() -> None:
    ids = [f"q{i}" for i in range(20)]
    a = next(q for q in ids if fold_of(q, 2) == 0)
    b = next(q for q in ids if fold_of(q, 2) == 1)
    graded = [
        GradedAnswer(expert="m", question_id=a, skills=["law"], correct=True),
        GradedAnswer(expert="new", question_id=b, skills=["law"], correct=True),
    ]
    # fold 0: m unseen in training (only "new" answered b) -> 0.5; fold 1: the same for new
    assert _held_out(graded, 2.0, folds=2) == pytest.approx(math.log(0.5), abs=1e-6)


def test_with_no_held_out_answer_the_default_strength_and_no_scores() -> None:
    one_question = [
        GradedAnswer(expert=e, question_id="q1", skills=["law"], correct=e == "m1")
        for e in ("m1", "m2")
    ]
    best, scores = choose_smoothing(one_question)
    assert best == DEFAULT_SMOOTHING
    assert scores == {}


def test_a_profile_set_built_on_too_few_questions_loads_back(tmp_path: Path) -> None:
    one_question = [
        GradedAnswer(expert=e, question_id="q1", skills=["law"], correct=e == "m1")
        for e in ("m1", "m2")
    ]
    experts, accuracy = build_profiles(one_question)
    smoothing, smoothing_cv = choose_smoothing(one_question)
    profile = ProfileSet(
        name="tiny",
        experts=experts,
        accuracy=accuracy,
        smoothing=smoothing,
        smoothing_cv=smoothing_cv,
    )
    path = tmp_path / "tiny.json"
    profile.save(path)
    assert ProfileSet.load(path).smoothing == smoothing
