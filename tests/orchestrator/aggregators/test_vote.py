"""`vote` and `weighted_vote`: counting the experts' extracted answers, with no model call."""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.aggregators import AGGREGATORS, AggregationInput, ExpertAnswer
from orchestrator.aggregators.vote import VoteAggregator, WeightedVoteAggregator

QUESTION = "Which gas do plants absorb? (A) oxygen (B) carbon dioxide (C) helium"


def _input(
    answers: Sequence[tuple[str, str, str | None]], weights: dict[str, float] | None = None
) -> AggregationInput:
    return AggregationInput(
        question=QUESTION,
        fmt="letter",
        answers=[ExpertAnswer(expert=e, text=t, extracted=x) for e, t, x in answers],
        weights=weights or {},
    )


def test_the_registry_names_both_policies_and_neither_uses_a_model() -> None:
    assert AGGREGATORS.get("vote") is VoteAggregator
    assert AGGREGATORS.get("weighted_vote") is WeightedVoteAggregator
    assert VoteAggregator.uses_model is False
    assert WeightedVoteAggregator.uses_model is False


def test_vote_picks_the_majority_and_answers_with_its_first_text() -> None:
    item = _input(
        [
            ("e1", "Plants take in CO2. The answer is (B).", "B"),
            ("e2", "The answer is (A).", "A"),
            ("e3", "Photosynthesis uses carbon dioxide: (B)", "B"),
        ]
    )
    outcome = VoteAggregator().aggregate(item, completion=False)
    assert outcome.answer == "Plants take in CO2. The answer is (B)."
    assert outcome.extracted == "B"
    assert outcome.prompt is None
    assert outcome.notes == ["votes: B=2, A=1"]


def test_answers_without_an_extracted_value_do_not_vote() -> None:
    item = _input(
        [
            ("e1", "I am not sure.", None),
            ("e2", "Maybe.", None),
            ("e3", "The answer is (C).", "C"),
        ]
    )
    outcome = VoteAggregator().aggregate(item, completion=False)
    assert (outcome.answer, outcome.extracted) == ("The answer is (C).", "C")
    assert outcome.notes == ["votes: C=1"]


def test_weights_overturn_the_majority_in_weighted_vote_only() -> None:
    answers = [
        ("e1", "The answer is (A).", "A"),
        ("e2", "The answer is (B).", "B"),
        ("e3", "So (A).", "A"),
    ]
    item = _input(answers, weights={"e1": 0.2, "e2": 0.7, "e3": 0.1})
    weighted = WeightedVoteAggregator().aggregate(item, completion=False)
    assert (weighted.answer, weighted.extracted) == ("The answer is (B).", "B")
    assert weighted.notes == ["votes: A=0.3, B=0.7"]
    plain = VoteAggregator().aggregate(item, completion=False)
    assert (plain.answer, plain.extracted) == ("The answer is (A).", "A")
    assert plain.notes == ["votes: A=2, B=1"]


def test_an_expert_without_a_weight_counts_zero() -> None:
    item = _input(
        [
            ("e1", "The answer is (A).", "A"),
            ("e2", "The answer is (A).", "A"),
            ("e3", "The answer is (C).", "C"),
        ],
        weights={"e3": 0.05},
    )
    outcome = WeightedVoteAggregator().aggregate(item, completion=False)
    assert outcome.extracted == "C"
    assert outcome.notes == ["votes: A=0, C=0.05"]


def test_a_tie_goes_to_the_answer_seen_first() -> None:
    first_b = _input([("e1", "(B)", "B"), ("e2", "(A)", "A")])
    first_a = _input([("e1", "(A)", "A"), ("e2", "(B)", "B")])
    assert VoteAggregator().aggregate(first_b, completion=False).extracted == "B"
    assert VoteAggregator().aggregate(first_a, completion=False).extracted == "A"
    tied_weights = _input([("e1", "(C)", "C"), ("e2", "(A)", "A")], weights={"e1": 0.5, "e2": 0.5})
    outcome = WeightedVoteAggregator().aggregate(tied_weights, completion=False)
    assert outcome.extracted == "C"
    assert outcome.notes == ["votes: C=0.5, A=0.5"]


def test_with_no_extracted_answer_the_first_non_blank_text_answers() -> None:
    item = _input([("e1", "   ", None), ("e2", "No idea, sorry.", None), ("e3", "Hmm.", None)])
    for policy in (VoteAggregator(), WeightedVoteAggregator()):
        outcome = policy.aggregate(item, completion=False)
        assert outcome.answer == "No idea, sorry."
        assert outcome.extracted is None
        assert outcome.notes == ["no parseable expert answer to vote on"]


def test_with_only_blank_answers_the_answer_is_empty() -> None:
    outcome = VoteAggregator().aggregate(_input([("e1", "", None), ("e2", "\n", None)]), False)
    assert outcome.answer == ""
    assert outcome.extracted is None
    assert outcome.notes == ["no parseable expert answer to vote on"]
