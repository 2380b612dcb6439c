"""`logodds_vote`, `learned` and the answer features the latter weighs, with hand-computed
numbers and no model call."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from orchestrator.aggregators import AGGREGATORS, AggregationInput, ExpertAnswer
from orchestrator.aggregators.answer_features import FEATURES, answer_features, log_length
from orchestrator.aggregators.learned import LearnedAggregator
from orchestrator.aggregators.logodds import LogOddsVoteAggregator, log_odds, options_of
from orchestrator.aggregators.vote import VoteAggregator
from orchestrator.answers import AnswerFormat
from skills.profiles import StackerWeights

TEN = "Pick one. " + " ".join(f"({c}) option {c.lower()}" for c in "ABCDEFGHIJ")
FOUR = "Pick one. (A) w (B) x (C) y (D) z"


def _input(
    answers: Sequence[tuple[str, str, str | None]],
    question: str = TEN,
    fmt: AnswerFormat = "letter",
    expected: dict[str, float] | None = None,
    stacker: StackerWeights | None = None,
) -> AggregationInput:
    return AggregationInput(
        question=question,
        fmt=fmt,
        answers=[ExpertAnswer(expert=e, text=t, extracted=x) for e, t, x in answers],
        expected_accuracy=expected or {},
        stacker=stacker,
    )


def test_both_policies_are_registered_and_use_no_model() -> None:
    assert AGGREGATORS.get("logodds_vote") is LogOddsVoteAggregator
    assert AGGREGATORS.get("learned") is LearnedAggregator
    assert LogOddsVoteAggregator.uses_model is False
    assert LearnedAggregator.uses_model is False


# -- log_odds ------------------------------------------------------------------------------


def test_log_odds_by_hand() -> None:
    # log(p (L - 1) / (1 - p))
    assert log_odds(0.5, 10) == pytest.approx(math.log(9))  # 0.5 * 9 / 0.5
    assert log_odds(0.9, 10) == pytest.approx(math.log(81))  # 0.9 * 9 / 0.1
    assert log_odds(0.5, 4) == pytest.approx(math.log(3))
    assert log_odds(0.75, 2) == pytest.approx(math.log(3))  # 0.75 / 0.25


def test_an_expert_at_or_below_chance_gets_no_vote() -> None:
    assert log_odds(0.1, 10) == pytest.approx(0.0, abs=1e-12)  # 1 in 10: chance
    assert log_odds(0.05, 10) == 0.0
    assert log_odds(0.5, 2) == pytest.approx(0.0, abs=1e-12)
    assert log_odds(0.3, 2) == 0.0
    assert log_odds(0.0, 10) == 0.0


def test_certainty_is_clipped_at_0_99() -> None:
    # p = 1 would be an infinite weight: clipped to 0.99 -> log(0.99 * 9 / 0.01) = log(891)
    assert log_odds(1.0, 10) == pytest.approx(math.log(891))
    assert log_odds(0.999, 10) == log_odds(0.99, 10)
    assert log_odds(5.0, 10) == log_odds(0.99, 10)


def test_options_come_from_the_question_and_free_form_counts_as_two() -> None:
    assert options_of(_input([], question=TEN)) == 10
    assert options_of(_input([], question=FOUR)) == 4
    assert options_of(_input([], question="What is 6 * 7?", fmt="free")) == 2
    assert options_of(_input([], question="What is 6 * 7? (A) 42 (B) 41", fmt="number")) == 2
    # fewer than two options counts as two
    assert log_odds(0.75, 1) == log_odds(0.75, 2) == pytest.approx(math.log(3))


# -- logodds_vote --------------------------------------------------------------------------


def test_one_strong_expert_outvotes_two_weak_ones_that_agree() -> None:
    # 10 options. strong p = 0.9: log(0.9 * 9 / 0.1) = log 81 = 4.394
    # weak p = 0.3: log(0.3 * 9 / 0.7) = log(27/7) = 1.350, two of them 2.700 < 4.394
    answers = [
        ("weak1", "The answer is (B).", "B"),
        ("weak2", "I'd say (B).", "B"),
        ("strong", "The answer is (A).", "A"),
    ]
    item = _input(answers, expected={"weak1": 0.3, "weak2": 0.3, "strong": 0.9})
    outcome = LogOddsVoteAggregator().aggregate(item, completion=False)
    assert (outcome.answer, outcome.extracted) == ("The answer is (A).", "A")
    assert outcome.notes == ["votes: B=2.7, A=4.39"]
    assert 2 * math.log(27 / 7) == pytest.approx(2.700, abs=1e-3)
    plain = VoteAggregator().aggregate(item, completion=False)
    assert (plain.answer, plain.extracted) == ("The answer is (B).", "B")
    assert plain.notes == ["votes: B=2, A=1"]


def test_free_form_weighs_with_two_options() -> None:
    # L = 2: strong 0.9 -> log 9 = 2.197; weak 0.7 -> log(7/3) = 0.847, two: 1.695 -> 42 wins.
    # The same accuracies on a ten-option question: log 81 = 4.394 against
    # 2 log(0.7 * 9 / 0.3) = 2 log 21 = 6.089 -> the weak pair wins.
    expected = {"weak1": 0.7, "weak2": 0.7, "strong": 0.9}
    free = _input(
        [("weak1", "41", "41"), ("weak2", "It is 41", "41"), ("strong", "42", "42")],
        question="What is 6 * 7?",
        fmt="free",
        expected=expected,
    )
    outcome = LogOddsVoteAggregator().aggregate(free, completion=False)
    assert outcome.extracted == "42"
    assert outcome.notes == ["votes: 41=1.69, 42=2.2"]
    letter = _input(
        [("weak1", "(B)", "B"), ("weak2", "(B)", "B"), ("strong", "(A)", "A")],
        expected=expected,
    )
    outcome = LogOddsVoteAggregator().aggregate(letter, completion=False)
    assert outcome.extracted == "B"
    assert outcome.notes == ["votes: B=6.09, A=4.39"]


def test_experts_at_chance_or_without_an_expected_accuracy_count_zero() -> None:
    item = _input(
        [("chance", "(C)", "C"), ("unknown", "(C)", "C"), ("good", "(D)", "D")],
        question=FOUR,
        expected={"chance": 0.25, "good": 0.5},  # 4 options: 0.25 is chance, 0.5 -> log 3
    )
    outcome = LogOddsVoteAggregator().aggregate(item, completion=False)
    assert outcome.extracted == "D"
    assert outcome.notes == ["votes: C=0, D=1.1"]


def test_without_expected_accuracies_it_is_a_plain_vote_with_a_note() -> None:
    item = _input([("e1", "(A)", "A"), ("e2", "(B)", "B"), ("e3", "(B)", "B")])
    outcome = LogOddsVoteAggregator().aggregate(item, completion=False)
    assert (outcome.answer, outcome.extracted) == ("(B)", "B")
    assert outcome.notes == [
        "no expected accuracies (profile set): a plain vote",
        "votes: A=1, B=2",
    ]


# -- answer features -----------------------------------------------------------------------


def test_feature_names_and_a_clean_answer() -> None:
    assert FEATURES == ("vote", "length", "several_answers", "no_answer_phrase", "hedges")
    # 4 words: log(1 + 4) = log 5
    assert log_length("The answer is (B).") == pytest.approx(math.log(5))
    feats = answer_features("The answer is (B).", length_mean=1.0)
    assert feats == pytest.approx([1.0, math.log(5) - 1.0, 0.0, 0.0, 0.0])


def test_several_different_answers_and_the_same_answer_twice() -> None:
    several = answer_features("The answer is (A). Wait, the answer is (C).", 0.0)
    assert several[FEATURES.index("several_answers")] == 1.0
    assert several[FEATURES.index("no_answer_phrase")] == 0.0
    assert several[FEATURES.index("hedges")] == pytest.approx(0.2)  # "wait"
    # "B." and "(B)" name one answer
    same = answer_features("The answer is B. So the answer is (B).", 0.0)
    assert same[FEATURES.index("several_answers")] == 0.0
    boxed = answer_features("So the answer is \\boxed{42}", 0.0)
    assert boxed[FEATURES.index("no_answer_phrase")] == 0.0


def test_no_answer_phrase_and_hedges() -> None:
    # 7 words; hedges: "perhaps", "but ", "might" -> 3 of at most 5
    feats = answer_features("Perhaps (B), but I might be wrong.", 0.0)
    assert feats == pytest.approx([1.0, math.log(8), 0.0, 1.0, 0.6])
    capped = answer_features("However, however, however, however, however, however.", 0.0)
    assert capped[FEATURES.index("hedges")] == 1.0  # six hedges, capped at five
    assert answer_features("", 0.0) == pytest.approx([1.0, 0.0, 0.0, 1.0, 0.0])


# -- learned -------------------------------------------------------------------------------


def _stacker() -> StackerWeights:
    #          vote  length several no_phrase hedges
    return StackerWeights(
        features=list(FEATURES),
        experts={
            "e1": [2.5, 0.0, -1.0, -1.5, -1.0],
            "e2": [3.0, 0.0, -1.0, -1.5, -1.0],
            "e3": [1.0, 0.5, 0.0, 0.0, 0.0],
        },
        length_mean={"e1": 0.0, "e2": 0.0, "e3": math.log(3)},
    )


LEARNED_ANSWERS = [
    # features [1, log 5, 0, 0, 0] -> 2.5 * 1 = 2.5
    ("e1", "The answer is (A).", "A"),
    # features [1, log 8, 0, 1, 0.6] -> 3.0 - 1.5 - 0.6 = 0.9
    ("e2", "Perhaps (B), but I might be wrong.", "B"),
    # features [1, log 5 - log 3, 0, 0, 0] -> 1 + 0.5 * log(5/3) = 1.2554
    ("e3", "The answer is (B).", "B"),
]


def test_learned_picks_the_larger_sum_of_weights_times_features() -> None:
    stacker = _stacker()
    scores = {"A": 0.0, "B": 0.0}
    for expert, text, extracted in LEARNED_ANSWERS:
        feats = answer_features(text, stacker.length_mean[expert])
        scores[extracted] += sum(w * x for w, x in zip(stacker.experts[expert], feats, strict=True))
    # A = 2.5; B = 0.9 + 1.2554 = 2.1554
    assert scores == pytest.approx({"A": 2.5, "B": 0.9 + 1 + 0.5 * math.log(5 / 3)})
    assert scores["B"] == pytest.approx(2.1554, abs=1e-4)
    item = _input(LEARNED_ANSWERS, stacker=stacker)
    outcome = LearnedAggregator().aggregate(item, completion=False)
    assert (outcome.answer, outcome.extracted) == ("The answer is (A).", "A")
    assert outcome.notes == ["votes: A=2.5, B=2.16"]
    # two votes to one: a plain vote says B
    assert VoteAggregator().aggregate(item, completion=False).extracted == "B"


def test_learned_ignores_experts_without_fitted_weights_with_a_note() -> None:
    answers = [*LEARNED_ANSWERS, ("stranger", "The answer is (B).", "B")]
    outcome = LearnedAggregator().aggregate(_input(answers, stacker=_stacker()), False)
    assert outcome.extracted == "A"
    assert outcome.notes == ["votes: A=2.5, B=2.16", "no fitted weights, vote ignored: stranger"]
    answers = [*LEARNED_ANSWERS, ("zed", "(C)", "C"), ("ann", "(C)", "C"), ("zed", "(C)", "C")]
    outcome = LearnedAggregator().aggregate(_input(answers, stacker=_stacker()), False)
    assert outcome.extracted == "A"
    assert outcome.notes[-1] == "no fitted weights, vote ignored: ann, zed"


def test_without_a_stacker_learned_is_logodds_vote() -> None:
    expected = {"weak1": 0.3, "weak2": 0.3, "strong": 0.9}
    answers = [("weak1", "(B)", "B"), ("weak2", "(B)", "B"), ("strong", "(A)", "A")]
    outcome = LearnedAggregator().aggregate(_input(answers, expected=expected), False)
    assert outcome.extracted == "A"
    assert outcome.notes == [
        "the profile set has no fitted weights: logodds_vote",
        "votes: B=2.7, A=4.39",
    ]
    bare = LearnedAggregator().aggregate(_input(answers), False)
    assert bare.extracted == "B"
    assert bare.notes == [
        "the profile set has no fitted weights: logodds_vote",
        "no expected accuracies (profile set): a plain vote",
        "votes: B=2, A=1",
    ]


def test_an_ignored_vote_never_decides_the_answer() -> None:
    # fit_stacker gives an expert that is usually wrong a negative vote weight
    stacker = StackerWeights(features=list(FEATURES), experts={"weak": [-0.4, 0, 0, 0, 0]})
    answers = [("weak", "The answer is (A).", "A"), ("stranger", "The answer is (B).", "B")]
    outcome = LearnedAggregator().aggregate(_input(answers, stacker=stacker), False)
    assert outcome.notes[-1] == "no fitted weights, vote ignored: stranger"
    assert outcome.extracted == "A"
