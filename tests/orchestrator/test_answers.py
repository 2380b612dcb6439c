from __future__ import annotations

import pytest

from orchestrator.answers import (
    detect_format,
    extract,
    extract_letter,
    extract_number,
    normalize_free,
    truncate_at_next_item,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Let me think... so (B) is tempting. The answer is (J).", "J"),
        ("The answer is (A). Wait, no. The answer is (C)", "C"),
        ("answer: D", "D"),
        ("The final choice is \\boxed{E}", "E"),
        ("The answer is B because", "B"),
        ("I cannot decide.", None),
        (" (A) oxygen.", "A"),
        ("C", "C"),
        ("A great question (B) maybe", None),
    ],
)
def test_extract_letter(text: str, expected: str | None) -> None:
    assert extract_letter(text) == expected


def test_extract_number_prefers_the_last_boxed() -> None:
    assert extract_number("first \\boxed{12} then \\boxed{1,024}") == "1024"
    assert extract_number("so it is 42.0") == "42"
    assert extract_number("no digits") is None


def test_detect_format_and_free_text() -> None:
    assert detect_format("Pick one. The options are: (A) x (B) y") == "letter"
    assert detect_format("What is the capital of France?") == "free"
    assert normalize_free("\n  Paris.  \nmore") == "paris"


# Abridged excerpts of real MMLU-Pro recordings (5-shot base models, question id in the name):
# the model answers, then invents the next few-shot item and answers that too.
LLAMA3_70B_138 = (
    " We refer to Wikipedia articles on finance for help. The final amount after five years is"
    " $500 * (1 + 0.08/12)^(12*5) = $36983.35. The answer is (E).\n\nQuestion:\nThe _______ is"
    " the difference between the price at which a security can be bought or sold (bid and ask)"
    " and the value the investment analyst believes the security is worth.\nOptions:\nA. Margin"
    "\nB. Spread\nC. Discount\nAnswer: Let's think step by step. We refer to Wikipedia articles"
    " on finance for help. The spread is the difference between the price at which a security"
    " can be bought or sold. The answer is (B).\n\nQuestion:\nThe _______ is the difference"
)
LLAMA3_8B_137 = (
    " We refer to Wikipedia articles on finance for help. The fair value of the stock now is"
    " 273.0. The answer is (F).\n\nQuestion:\nThe following information is available for a"
    " company:\nNet income = $1,000,000\nDividends = $200,000\nWhat is the total amount of"
    " stockholders' equity?\nOptions:\nA. $1,200,000\nB. $1,000,000\nAnswer: Let's think step"
    " by step. We refer to Wikipedia articles on finance for help. The total amount of"
    " stockholders' equity is $1,000,000. The answer is (B).\n\nQuestion:\nThe following"
)
# Its own answer names no option; the invented item's (A) must not be taken for it.
LLAMA3_70B_748 = (
    " We refer to Wikipedia articles on accounting for help. The overhead percent of prime cost"
    " is 21.43%. The amount of overhead to be charged to the Design Department is $3,963.50."
    " The answer is (None of the above).\n\nQuestion:\nThe following information is available"
    " for the month of June for the company: Sales $1,000,000; Cost of goods sold $600,000."
    " What is the company's gross profit?\nOptions:\nA. $400,000\nB. $200,000\nAnswer: Let's"
    " think step by step. The company's gross profit is $400,000. The answer is (A).\n\n"
)


@pytest.mark.parametrize(
    ("text", "own_answer", "invented_answer"),
    [(LLAMA3_70B_138, "E", "B"), (LLAMA3_8B_137, "F", "B"), (LLAMA3_70B_748, None, "A")],
)
def test_a_base_models_invented_next_item_is_not_read_as_its_answer(
    text: str, own_answer: str | None, invented_answer: str
) -> None:
    assert extract_letter(text) == invented_answer  # what reading the whole text gives
    assert extract(text, "letter") == own_answer


def test_truncate_at_next_item() -> None:
    assert truncate_at_next_item("So (A).\nQ: next? So (B).") == "So (A)."
    assert truncate_at_next_item("a\nQuestion: b\nQ: c") == "a"
    # declared stop strings cut too, wherever the earliest one is
    assert truncate_at_next_item("x ### y\nQuestion: z", ["###"]) == "x "
    # a restated question at the very start is not a next item
    text = "Question: what is 2 + 2? It is 4. The answer is (B)."
    assert truncate_at_next_item(text) == text
    assert extract("\n\\boxed{3}\nQuestion: q \\boxed{4}", "number") == "3"


def test_json_answers_compare_by_value() -> None:
    assert extract('{"b": 1, "a": [true, null]}', "json") == '{"a":[true,null],"b":1}'
    assert extract('{ "a" : [ true , null ], "b" : 1 }', "json") == extract(
        '{"b":1,"a":[true,null]}', "json"
    )
    assert extract('{"a": 1', "json") is None  # cut at max_tokens: not JSON
