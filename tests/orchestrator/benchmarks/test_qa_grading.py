"""SQuAD-style EM and F1 (qa_metrics.py) on known SQuAD v1.1 cases, HotpotQA's yes/no rule,
and the `yesno` answer format (extraction, grading, prompts)."""

from __future__ import annotations

import pytest

from orchestrator.answers import extract, extract_yesno
from orchestrator.benchmarks import is_correct
from orchestrator.benchmarks.qa_metrics import (
    best_over_golds,
    exact_match,
    f1_score,
    hotpot_f1,
    normalize_answer,
)
from orchestrator.prompts import expert_prompt


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("The  Quick, Brown fox!", "quick brown fox"),
        ("an apple a day", "apple day"),
        ("Another theme", "another theme"),  # articles only as whole words
        ("U.S. Army", "us army"),
        ("Levi's Stadium", "levis stadium"),
        ("", ""),
    ],
)
def test_normalize_answer(text: str, normalised: str) -> None:
    assert normalize_answer(text) == normalised


@pytest.mark.parametrize(
    ("predicted", "gold", "em", "f1"),
    [
        ("Denver Broncos", "Denver Broncos", 1.0, 1.0),
        ("the Denver Broncos!", "Denver Broncos", 1.0, 1.0),
        # SQuAD dev: p = 1, r = 1/2
        ("the Broncos", "Denver Broncos", 0.0, 2 / 3),
        # SQuAD dev: 3 of the gold's 11 normalised tokens, all 3 predicted ones right: 3/7
        (
            "Santa Clara, California",
            "Levi's Stadium in the San Francisco Bay Area at Santa Clara, California",
            0.0,
            3 / 7,
        ),
        ("Denver Broncos team", "Denver Broncos", 0.0, 0.8),  # p = 2/3, r = 1
        ("cat cat", "cat", 0.0, 2 / 3),  # a repeated token counts once per gold occurrence
        ("Carolina Panthers", "Denver Broncos", 0.0, 0.0),
        ("the", "a", 1.0, 0.0),  # both normalise to nothing: equal, but no tokens to share
        (None, "Denver Broncos", 0.0, 0.0),
    ],
)
def test_exact_match_and_f1(predicted: str | None, gold: str, em: float, f1: float) -> None:
    assert exact_match(predicted, gold) == em
    assert f1_score(predicted, gold) == pytest.approx(f1)


def test_hotpot_f1_gives_yes_no_no_partial_credit() -> None:
    assert f1_score("yes it is", "yes") == pytest.approx(0.5)
    assert hotpot_f1("yes it is", "yes") == 0.0
    assert hotpot_f1("Yes.", "yes") == 1.0
    assert hotpot_f1("no", "Norway and Sweden") == 0.0
    assert hotpot_f1("the Broncos", "Denver Broncos") == pytest.approx(2 / 3)
    assert hotpot_f1(None, "yes") == 0.0


def test_best_over_golds() -> None:
    golds = ["Denver Broncos", "Broncos"]
    assert best_over_golds("the Broncos", golds, exact=True) == 1.0
    assert best_over_golds("Denver", golds) == pytest.approx(2 / 3)
    assert best_over_golds("Denver", []) == 0.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The evidence is mixed. The answer is maybe.", "maybe"),
        ("Reasoning... The answer is **No**.", "no"),
        ("Answer: yes", "yes"),
        ("Yes, the trial showed a benefit.", "yes"),
        ("no.", "no"),
        ("True. Ethanol takes more energy.", "yes"),
        ("The answer is false", "no"),
        ("It said yes at first; the answer is no.", "no"),
        ("\\boxed{yes}", "yes"),
        ("The study is inconclusive.", None),
        ("Nobody knows.", None),  # 'no' only as a whole word
        ("Yes.\nQuestion: Is water wet?\nAnswer: no", "yes"),  # the next item is not read
    ],
)
def test_extract_yesno(text: str, expected: str | None) -> None:
    assert extract(text, "yesno") == expected
    if "\nQuestion:" not in text:
        assert extract_yesno(text) == expected


def test_yesno_grading_and_prompts() -> None:
    assert is_correct(extract("The answer is Yes.", "yesno"), "yes", "yesno")
    assert not is_correct(extract("The answer is maybe.", "yesno"), "no", "yesno")
    assert not is_correct(None, "no", "yesno")
    chat = expert_prompt("Is aspirin an NSAID?", "yesno", False).messages[-1].content
    assert 'print "The answer is X"' in chat and "yes or no" in chat
    base = expert_prompt("Is aspirin an NSAID?", "yesno", True).messages[0].content
    assert "The answer is yes." in base and base.endswith("Question: Is aspirin an NSAID?\nAnswer:")
