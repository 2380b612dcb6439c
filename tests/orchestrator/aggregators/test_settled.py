"""`AggregatorPolicy.settled`: when the answers still to come cannot change a policy's answer
(what lets a cascade stop asking). Hand-checked margins for `vote`, `logodds_vote` and
`learned`, and the property that makes a cascade lossless: whenever `settled` says so, no
answers of the remaining experts change the aggregate's extracted answer."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence

import pytest

from orchestrator.aggregators import AggregationInput, ExpertAnswer, all_aggregators
from orchestrator.aggregators.answer_features import FEATURES, LENGTH_CLIP, log_length
from orchestrator.aggregators.learned import LearnedAggregator
from orchestrator.aggregators.logodds import LogOddsVoteAggregator
from orchestrator.aggregators.vote import (
    VoteAggregator,
    VotingPolicy,
    WeightedVoteAggregator,
    margin_exceeds,
)
from orchestrator.answers import AnswerFormat
from skills.profiles import StackerWeights

TEN = "Pick one. " + " ".join(f"({c}) option {c.lower()}" for c in "ABCDEFGHIJ")
THREE = "Pick one. (A) x (B) y (C) z"
PLAIN = "The answer is ({}).".format  # 4 words, one "answer is", no hedge


def _input(
    answers: Sequence[tuple[str, str | None]],
    question: str = TEN,
    fmt: AnswerFormat = "letter",
    expected: dict[str, float] | None = None,
    weights: dict[str, float] | None = None,
    stacker: StackerWeights | None = None,
    skills: list[str] | None = None,
    texts: dict[int, str] | None = None,
) -> AggregationInput:
    """(expert, extracted letter) pairs; an answer's text says its letter plainly unless
    `texts` gives one (by position)."""
    texts = texts or {}
    return AggregationInput(
        question=question,
        fmt=fmt,
        answers=[
            ExpertAnswer(expert=e, text=texts.get(i, PLAIN(x or "?")), extracted=x)
            for i, (e, x) in enumerate(answers)
        ],
        expected_accuracy=expected or {},
        weights=weights or {},
        stacker=stacker,
        skills=skills or [],
    )


# -- margin_exceeds -------------------------------------------------------------------------


def test_margin_exceeds_by_hand() -> None:
    assert margin_exceeds({"A": 2.0, "B": 0.0}, 1.0) is True  # lead 2 > 1
    assert margin_exceeds({"A": 2.0, "B": 1.0}, 1.0) is False  # lead 1 is not > 1
    assert margin_exceeds({"B": 1.0, "A": 2.0}, 0.5) is True  # order of the dict is no matter
    assert margin_exceeds({"A": 3.0, "B": 1.0, "C": 2.0}, 0.9) is True  # best rival is C: 1 > 0.9
    assert margin_exceeds({"A": 3.0, "B": 1.0, "C": 2.0}, 1.0) is False


def test_a_single_candidate_is_compared_with_a_new_one_at_zero() -> None:
    assert margin_exceeds({"A": 2.0}, 1.0) is True  # 2 - 0 > 1
    assert margin_exceeds({"A": 2.0}, 2.0) is False  # a new candidate could tie it
    assert margin_exceeds({"A": 0.5}, 0.0) is True  # nothing more to come
    # a rival below zero is no closer than a new candidate would be
    assert margin_exceeds({"A": 1.0, "B": -3.0}, 0.9) is True
    assert margin_exceeds({"A": 1.0, "B": -3.0}, 1.0) is False


def test_a_leader_at_or_below_zero_is_never_settled() -> None:
    assert margin_exceeds({"A": -1.0}, 0.0) is False
    assert margin_exceeds({"A": -1.0, "B": -2.0}, 0.0) is False
    assert margin_exceeds({"A": 0.0}, 0.0) is False  # 0 - 0 is not > 0


def test_no_scores_are_never_settled() -> None:
    assert margin_exceeds({}, 0.0) is False
    assert margin_exceeds({}, 5.0) is False


# -- the policies -----------------------------------------------------------------------------


def test_the_voting_policies_can_settle_and_llm_never_does() -> None:
    policies = all_aggregators()
    for name in ("vote", "weighted_vote", "logodds_vote", "learned"):
        assert isinstance(policies[name], VotingPolicy), name
    # llm keeps the base class's answer: it cannot tell, so never settled
    assert not isinstance(policies["llm"], VotingPolicy)
    unanimous = _input([("e1", "A"), ("e2", "A"), ("e3", "A")])
    assert policies["llm"].settled(unanimous, []) is False
    assert policies["llm"].settled(unanimous, ["e4"]) is False


def test_vote_settles_on_a_count_of_the_remaining_experts() -> None:
    vote = VoteAggregator()
    # two agreeing answers, one expert to come: 2 - 0 > 1
    assert vote.settled(_input([("e1", "B"), ("e2", "B")]), ["e3"]) is True
    # one answer, two to come: 1 - 0 is not > 2
    assert vote.settled(_input([("e1", "B")]), ["e2", "e3"]) is False
    # 1 - 1 with one to come
    assert vote.settled(_input([("e1", "A"), ("e2", "B")]), ["e3"]) is False
    # two agreeing answers, two to come: 2 is not > 2 (they could tie a new candidate)
    assert vote.settled(_input([("e1", "B"), ("e2", "B")]), ["e3", "e4"]) is False
    # 3 - 1 with one to come
    assert vote.settled(_input([("a", "B"), ("b", "A"), ("c", "B"), ("d", "B")]), ["e"]) is True


def test_vote_ignores_unparseable_answers_and_settles_with_nobody_left() -> None:
    vote = VoteAggregator()
    # an answer without an extracted letter is no vote: 1 - 0 is not > 1
    assert vote.settled(_input([("e1", "B"), ("e2", None)]), ["e3"]) is False
    # nobody left: any parseable answer is settled; no parseable answer never is
    assert vote.settled(_input([("e1", "B")]), []) is True
    assert vote.settled(_input([("e1", None), ("e2", None)]), []) is False


def test_weighted_vote_settles_on_the_remaining_weights() -> None:
    wv = WeightedVoteAggregator()
    weights = {"e1": 0.4, "e2": 0.1, "e3": 0.2, "e4": 0.25}
    item = _input([("e1", "A"), ("e2", "B")], weights=weights)
    # lead 0.4 - 0.1 = 0.3: e3 (0.2) cannot catch up, e4 (0.25) with e3 (0.45) could
    assert wv.settled(item, ["e3"]) is True
    assert wv.settled(item, ["e3", "e4"]) is False
    # an expert without a weight moves nothing
    assert wv.settled(item, ["nobody", "e3"]) is True


# -- logodds_vote, log(p * 9 / (1 - p)) for the ten options (A) .. (J) --------------------------
#   p = 0.9:  log(0.9 * 9 / 0.1)   = log(81)    = 4.394
#   p = 0.89: log(0.89 * 9 / 0.11) = log(72.82) = 4.288
#   p = 0.91: log(0.91 * 9 / 0.09) = log(91)    = 4.511
#   p = 0.5:  log(0.5 * 9 / 0.5)   = log(9)     = 2.197
#   p = 0.49: log(0.49 * 9 / 0.51) = log(8.647) = 2.157
#   p = 0.51: log(0.51 * 9 / 0.49) = log(9.367) = 2.237
#   p = 0.1:  log(0.1 * 9 / 0.9)   = log(1)     = 0 (chance: no vote)


def test_log_odds_numbers_in_the_comments() -> None:
    policy = LogOddsVoteAggregator()
    acc = {"p90": 0.9, "p89": 0.89, "p91": 0.91, "p50": 0.5, "p49": 0.49, "p51": 0.51}
    item = _input([], expected=acc)
    assert policy.reach(item, "p90") == pytest.approx(math.log(81))
    assert policy.reach(item, "p89") == pytest.approx(math.log(0.89 * 9 / 0.11))
    assert policy.reach(item, "p91") == pytest.approx(math.log(91))
    assert policy.reach(item, "p49") == pytest.approx(math.log(0.49 * 9 / 0.51))
    assert math.log(72.8) < math.log(81) < math.log(91)


def test_logodds_two_strong_agreeing_answers_against_the_sum_still_to_come() -> None:
    policy = LogOddsVoteAggregator()
    acc = {"a": 0.9, "b": 0.9, "r90": 0.9, "r89": 0.89, "r91": 0.91, "chance": 0.1}
    item = _input([("a", "C"), ("b", "C")], expected=acc)
    # lead: 2 log(81) = log(6561) = 8.789
    # r90 + r89: log(81 * 72.82) = log(5898) = 8.682, just below: settled
    assert policy.settled(item, ["r90", "r89"]) is True
    # r90 + r91: log(81 * 91) = log(7371) = 8.905, just above: not settled
    assert policy.settled(item, ["r90", "r91"]) is False
    # r90 + r90: exactly the lead, which is not more than it
    assert policy.settled(item, ["r90", "r90"]) is False
    # an expert at chance has no vote to come, nor one without an expected accuracy
    assert policy.settled(item, ["r90", "r89", "chance", "unknown"]) is True


def test_logodds_a_lead_over_a_rival() -> None:
    policy = LogOddsVoteAggregator()
    acc = {"a": 0.9, "b": 0.5, "r49": 0.49, "r51": 0.51}
    item = _input([("a", "A"), ("b", "B")], expected=acc)
    # lead: log(81) - log(9) = log(9) = 2.197
    assert policy.settled(item, ["r49"]) is True  # 2.157 < 2.197
    assert policy.settled(item, ["r51"]) is False  # 2.237 > 2.197


def test_logodds_without_expected_accuracies_settles_as_a_plain_vote() -> None:
    policy = LogOddsVoteAggregator()
    assert policy.settled(_input([("e1", "B"), ("e2", "B")]), ["e3"]) is True
    assert policy.settled(_input([("e1", "B"), ("e2", "B")]), ["e3", "e4"]) is False


def test_logodds_on_four_options() -> None:
    # L = 4: log(p * 3 / (1 - p)); p = 0.75 -> log(9) = 2.197, p = 0.6 -> log(4.5) = 1.504
    policy = LogOddsVoteAggregator()
    four = "Pick one. (A) w (B) x (C) y (D) z"
    acc = {"a": 0.75, "r": 0.6, "s": 0.75}
    item = _input([("a", "D")], question=four, expected=acc)
    assert policy.settled(item, ["r"]) is True  # 2.197 > 1.504
    assert policy.settled(item, ["s"]) is False  # 2.197 is not > 2.197


# -- learned: reach from the fitted weights and the feature ranges ------------------------------
#   features: vote (1), length (log length less the expert's mean, within +-3), several_answers,
#   no_answer_phrase, hedges (each in [0, 1])


def _stacker(
    experts: dict[str, list[float]],
    skill_votes: dict[str, dict[str, float]] | None = None,
) -> StackerWeights:
    # the mean log length is that of PLAIN: a plain answer's length feature is 0
    mean = log_length(PLAIN("A"))
    return StackerWeights(
        features=list(FEATURES),
        experts=experts,
        skill_votes=skill_votes or {},
        length_mean=dict.fromkeys(experts, mean),
    )


def test_learned_reach_by_hand() -> None:
    assert LENGTH_CLIP == 3.0
    policy = LearnedAggregator()
    stacker = _stacker(
        {
            # high = 1 + 3 * 0.5 + 0.3 = 2.8; low = 1 - 3 * 0.5 - 0.2 - 1.0 = -1.7: reach 2.8
            "up": [1.0, 0.5, -0.2, 0.3, -1.0],
            # high = 0.2 + 3 * 1 + 0 = 3.2; low = 0.2 - 3 - 2 - 1 = -5.8: reach 5.8
            "down": [0.2, -1.0, -2.0, 0.0, -1.0],
            # high = 0.5 + 0.3 + 0.2 = 1.0; low = 0.5 - 0.3 = 0.2: reach 1.0
            "small": [0.5, 0.1, 0.0, 0.2, 0.0],
        },
        # the query's skills share out the per-skill votes: (0.4 + (-0.2)) / 2 = 0.1
        skill_votes={"up": {"math": 0.4, "law": -0.2, "art": 5.0}},
    )
    item = _input([], stacker=stacker)
    assert policy.reach(item, "up") == pytest.approx(2.8)
    assert policy.reach(item, "down") == pytest.approx(5.8)
    assert policy.reach(item, "small") == pytest.approx(1.0)
    assert policy.reach(item, "unfitted") == 0.0  # left out: it moves nothing
    with_skills = _input([], stacker=stacker, skills=["math", "law"])
    assert policy.reach(with_skills, "up") == pytest.approx(2.9)  # fixed 1 + 0.1
    # without fitted weights it is logodds_vote's reach
    assert policy.reach(_input([], expected={"e": 0.9}), "e") == pytest.approx(math.log(81))


def test_learned_settled_by_hand() -> None:
    policy = LearnedAggregator()
    w = [1.0, 0.5, -0.2, 0.3, -1.0]
    stacker = _stacker({"a": w, "b": w, "c": w, "small": [0.5, 0.1, 0.0, 0.2, 0.0]})
    # two plain answers for A weigh w[0] = 1 each: 2.0
    item = _input([("a", "A"), ("b", "A")], stacker=stacker)
    assert policy.weight(item, item.answers[0]) == pytest.approx(1.0)
    assert policy.settled(item, ["small"]) is True  # 2.0 > 1.0
    assert policy.settled(item, ["c"]) is False  # 2.0 < 2.8
    assert policy.settled(item, ["small", "unfitted"]) is True
    assert policy.settled(item, ["small", "small"]) is False  # 2.0 is not > 2.0
    # a hedged answer weighs less: "perhaps", "might" -> hedges 2/5 (-1 * 0.4), and its 9
    # words against the mean of 4 -> length log(10 / 5) (0.5 * 0.693): 1 - 0.4 + 0.347 = 0.947
    hedged = "Perhaps it might be (A). The answer is (A)."
    item = _input([("a", "A"), ("b", "A")], stacker=stacker, texts={1: hedged})
    hedged_weight = policy.weight(item, item.answers[1])
    assert hedged_weight == pytest.approx(1 - 0.4 + 0.5 * math.log(2))
    assert policy.settled(item, ["small"]) is True
    # an unfitted expert's answer is no vote at all
    lone = _input([("a", "A"), ("unfitted", "B")], stacker=stacker)
    assert policy.settled(lone, []) is True
    assert policy.settled(_input([("unfitted", "B")], stacker=stacker), []) is False


# -- the property that makes a cascade lossless -----------------------------------------------

LETTERS = ("A", "B", "C")
# texts the learned features tell apart: plain, hedged and long, several answers, no phrase
TEXTS = (
    "The answer is ({}).",
    "Perhaps it is ({0}), but I am not sure; however it might be. "
    + "word " * 40
    + "The answer is ({0}).",
    "The answer is (A) or maybe the answer is ({}).",
    "I pick ({}).",
)


def _completions(remaining: list[str], policy: str) -> list[list[tuple[str, str, str | None]]]:
    """Every (expert, text, extracted) answer list the remaining experts could give."""
    options: list[tuple[str, str | None]] = [("No idea.", None)]
    texts = TEXTS if policy == "learned" else TEXTS[:1]
    options += [(t.format(x), x) for x in LETTERS for t in texts]
    return [
        [(e, t, x) for e, (t, x) in zip(remaining, choice, strict=True)]
        for choice in itertools.product(options, repeat=len(remaining))
    ]


def _random_case(rng: random.Random, policy: str) -> tuple[AggregationInput, list[str]]:
    experts = [f"e{i}" for i in range(7)]
    first = rng.randint(1, 4)
    remaining = experts[first : first + rng.randint(1, 3)]
    answers = []
    for e in experts[:first]:
        x = rng.choice([*LETTERS, LETTERS[0], LETTERS[0], None])  # some agreement, some noise
        text = rng.choice(TEXTS).format(x) if x else "No idea."
        answers.append(ExpertAnswer(expert=e, text=text, extracted=x))
    item = AggregationInput(question=rng.choice([THREE, TEN]), fmt="letter", answers=answers)
    if policy == "logodds_vote":
        item.expected_accuracy = {e: rng.uniform(0.05, 0.97) for e in experts}
    elif policy == "weighted_vote":
        item.weights = {e: rng.choice([0.0, rng.uniform(0, 1)]) for e in experts}
    elif policy == "learned":
        fitted = [e for e in experts if rng.random() < 0.85]
        item.stacker = StackerWeights(
            features=list(FEATURES),
            # a vote weight of either sign, the feature weights smaller (else nothing settles)
            experts={
                e: [rng.uniform(-0.5, 3.0), *(rng.uniform(-0.6, 0.6) for _ in FEATURES[1:])]
                for e in fitted
            },
            skill_votes={
                e: {"s1": rng.uniform(-1, 1), "s2": rng.uniform(-0.5, 0.5)} for e in fitted
            },
            length_mean={e: rng.uniform(1.0, 3.0) for e in fitted},
        )
        item.skills = rng.choice([[], ["s1"], ["s1", "s2"], ["s3"]])
    return item, remaining


@pytest.mark.parametrize("policy", ["vote", "weighted_vote", "logodds_vote", "learned"])
def test_settled_answers_are_what_every_completion_would_answer(policy: str) -> None:
    rng = random.Random(0)
    aggregator = all_aggregators()[policy]
    settled_cases = unsettled = 0
    for _ in range(300):
        item, remaining = _random_case(rng, policy)
        if not aggregator.settled(item, remaining):
            unsettled += 1
            continue
        settled_cases += 1
        now = aggregator.aggregate(item, completion=False).extracted
        assert now is not None
        for more in _completions(remaining, policy):
            full = item.model_copy(
                update={
                    "answers": [
                        *item.answers,
                        *(ExpertAnswer(expert=e, text=t, extracted=x) for e, t, x in more),
                    ]
                }
            )
            outcome = aggregator.aggregate(full, completion=False)
            assert outcome.extracted == now, (policy, item, remaining, more, outcome.notes)
    # the check means something only if both kinds of case came up
    assert settled_cases >= 20, settled_cases
    assert unsettled >= 20, unsettled
