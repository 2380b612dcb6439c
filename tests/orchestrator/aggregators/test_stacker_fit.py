"""Fitting the `learned` aggregator (stacker_fit.fit_stacker) on small synthetic validation
sets, built with a seeded random.Random so every run fits the same numbers."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from orchestrator.aggregators import AggregationInput, ExpertAnswer
from orchestrator.aggregators.answer_features import FEATURES
from orchestrator.aggregators.learned import LearnedAggregator
from orchestrator.aggregators.stacker_fit import (
    L2_CHOICES,
    ValidationAnswer,
    ValidationQuestion,
    fit_stacker,
)
from skills.profiles import StackerWeights

LETTERS = "ABCDEFGHIJ"
VOTE = FEATURES.index("vote")


def _questions(n: int = 200, seed: int = 0) -> list[ValidationQuestion]:
    """`good` is right 90% of the time; `bad1` and `bad2` give the same wrong answer 60% of
    the time (so together they outvote `good`), the gold 20%, a random wrong one 20%."""
    rng = random.Random(seed)
    questions = []
    for i in range(n):
        gold = rng.choice(LETTERS)
        wrongs = [c for c in LETTERS if c != gold]
        shared_wrong = rng.choice(wrongs)
        good = gold if rng.random() < 0.9 else rng.choice(wrongs)
        answers = [ValidationAnswer("good", f"The answer is ({good}).", good)]
        for expert in ("bad1", "bad2"):
            r = rng.random()
            said = shared_wrong if r < 0.6 else gold if r < 0.8 else rng.choice(wrongs)
            answers.append(ValidationAnswer(expert, f"The answer is ({said}).", said))
        questions.append(ValidationQuestion(f"q{i}", gold, answers))
    return questions


def _majority_accuracy(questions: list[ValidationQuestion]) -> float:
    """A plain vote (ties: the answer seen first), as the `vote` aggregator decides."""
    right = 0
    for q in questions:
        votes = Counter(a.extracted for a in q.answers if a.extracted is not None)
        if votes:
            right += max(votes, key=lambda k: votes[k]) == q.gold
    return right / len(questions)


QUESTIONS = _questions()


@pytest.fixture(scope="module")
def fit() -> StackerWeights:
    """One fit on QUESTIONS for the module: each fit is 16 L-BFGS runs (5 folds x 3 L2
    strengths, then all questions)."""
    return fit_stacker(QUESTIONS)


def test_the_reliable_expert_gets_the_larger_vote_weight(fit: StackerWeights) -> None:
    assert fit.features == list(FEATURES)
    assert set(fit.experts) == {"good", "bad1", "bad2"}
    assert all(len(w) == len(FEATURES) for w in fit.experts.values())
    good = fit.experts["good"][VOTE]
    assert good > fit.experts["bad1"][VOTE]
    assert good > fit.experts["bad2"][VOTE]
    assert good > 0
    assert fit.l2 in L2_CHOICES
    assert fit.questions == 200


def test_cross_validated_accuracy_beats_the_plain_vote(fit: StackerWeights) -> None:
    majority = _majority_accuracy(QUESTIONS)
    assert fit.cv_accuracy is not None
    assert 0.0 <= fit.cv_accuracy <= 1.0
    assert fit.cv_accuracy >= majority - 0.02
    # here the plain vote goes with the agreeing pair far too often
    assert majority < 0.7 < fit.cv_accuracy


def test_the_fitted_weights_drive_the_learned_aggregator(fit: StackerWeights) -> None:
    right = 0
    for q in QUESTIONS:
        item = AggregationInput(
            question="Pick one. " + " ".join(f"({c}) {c.lower()}" for c in LETTERS),
            fmt="letter",
            answers=[
                ExpertAnswer(expert=a.expert, text=a.text, extracted=a.extracted) for a in q.answers
            ],
            stacker=fit,
        )
        right += LearnedAggregator().aggregate(item, completion=False).extracted == q.gold
    assert right / len(QUESTIONS) >= _majority_accuracy(QUESTIONS)


def test_length_means_are_each_experts_mean_log_length(fit: StackerWeights) -> None:
    # every answer is "The answer is (X)." -> 4 words -> log(5) = 1.609438
    assert fit.length_mean == {"good": 1.609438, "bad1": 1.609438, "bad2": 1.609438}


def test_the_fit_is_deterministic(fit: StackerWeights) -> None:
    assert fit_stacker(_questions()) == fit


def test_questions_whose_gold_no_one_gave_are_skipped(fit: StackerWeights) -> None:
    unreachable = [
        ValidationQuestion(
            f"x{i}",
            "J",
            [
                ValidationAnswer("good", "The answer is (A).", "A"),
                ValidationAnswer("bad1", "I do not know.", None),  # 4 words too
                ValidationAnswer("bad2", "The answer is (B).", "B"),
            ],
        )
        for i in range(20)
    ]
    padded = fit_stacker(QUESTIONS + unreachable)
    assert padded.questions == 220
    assert padded.cv_accuracy is not None and fit.cv_accuracy is not None
    # a skipped question counts as wrong: at most 200 of 220 can be right
    assert 0.0 <= padded.cv_accuracy <= 200 / 220
    # the same questions are kept, in the same folds: the same answers right, over 220
    assert padded.cv_accuracy == pytest.approx(fit.cv_accuracy * 200 / 220, abs=1e-5)
    assert padded.experts == fit.experts


def test_l2_choices_can_be_narrowed() -> None:
    fit = fit_stacker(_questions(80), folds=3, l2_choices=(0.5,))
    assert fit.l2 == 0.5
    assert fit.cv_accuracy is not None and 0.0 <= fit.cv_accuracy <= 1.0
