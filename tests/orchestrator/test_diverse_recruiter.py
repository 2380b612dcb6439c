"""The `diverse` recruiter and the cross-validated choice of its penalty."""

from __future__ import annotations

import random

from orchestrator.aggregators.stacker_fit import ValidationAnswer, ValidationQuestion
from orchestrator.recruiters import RECRUITERS, DiverseRecruiter, RecruitRequest
from orchestrator.recruiters.diversity_fit import STRENGTHS, choose_diversity, committee_answer
from skills.profiles import GradedAnswer, ProfileSet, SkillScore


def _profile(diversity: float) -> ProfileSet:
    return ProfileSet(
        name="p",
        experts={
            "a": {"x": SkillScore(score=4, count=10)},  # 7 of 10 right
            "twin": {"x": SkillScore(score=3, count=10)},
            "other": {"x": SkillScore(score=1, count=10)},
        },
        accuracy={"a": 0.7, "twin": 0.65, "other": 0.55},
        smoothing=0.0,
        error_correlation={
            "a": {"twin": 0.9, "other": 0.0},
            "twin": {"a": 0.9, "other": 0.0},
            "other": {"a": 0.0, "twin": 0.0},
        },
        diversity=diversity,
    )


def _recruit(profile: ProfileSet) -> list[str]:
    [rec] = DiverseRecruiter(profile).recruit(
        [RecruitRequest(key="q", skills=["x"], k=2, pool=["a", "twin", "other"])]
    )
    return rec.drawn


def test_the_profile_set_s_penalty_steers_the_committee() -> None:
    assert RECRUITERS.check("diverse") == "diverse"
    assert _recruit(_profile(0.0)) == ["a", "twin"]  # no penalty: ranked
    # 0.5: twin 0.65 - 0.45 = 0.20 against other 0.55
    assert _recruit(_profile(0.5)) == ["a", "other"]


def test_a_committee_answers_by_logodds_vote() -> None:
    q = ValidationQuestion(
        question_id="q",
        gold="B",
        options=10,
        answers=[
            ValidationAnswer(expert="strong", text="", extracted="B"),
            ValidationAnswer(expert="w1", text="", extracted="A"),
            ValidationAnswer(expert="w2", text="", extracted="A"),
        ],
    )
    # log(0.9*9/0.1) = 4.39 against 2 * log(0.2*9/0.8) = 1.62
    expected = {"strong": 0.9, "w1": 0.2, "w2": 0.2}
    assert committee_answer(q, ["strong", "w1", "w2"], expected) == "B"
    assert committee_answer(q, ["w1", "w2"], expected) == "A"
    assert committee_answer(q, ["absent"], expected) is None


def test_the_penalty_is_chosen_on_validation_questions() -> None:
    """A strong expert, its twin that fails on the same questions, and two weaker independent
    ones: a committee of three does better with both independent ones (they can outvote the
    strong one when it is wrong; the twin never can), and the cross-validation sees it."""
    rng = random.Random(0)
    questions, graded = [], []
    for i in range(600):
        qid = f"q{i}"
        strong_right = rng.random() < 0.7
        right = {
            "strong": strong_right,
            "twin": strong_right if rng.random() < 0.95 else not strong_right,
            "o1": rng.random() < 0.6,
            "o2": rng.random() < 0.6,
        }
        answers = [
            ValidationAnswer(expert=e, text="", extracted="B" if ok else rng.choice("ACD"))
            for e, ok in right.items()
        ]
        questions.append(ValidationQuestion(question_id=qid, gold="B", answers=answers, options=4))
        graded += [GradedAnswer(expert=e, question_id=qid, skills=["x"], correct=ok)
                   for e, ok in right.items()]  # fmt: skip
    best, scores = choose_diversity(questions, graded, smoothing=10.0, k=3)
    assert set(scores) == {f"{s:g}" for s in STRENGTHS}
    assert best > 0.0
    assert scores[f"{best:g}"] > scores["0"] + 0.03
