from __future__ import annotations

import pytest

from orchestrator.answers import detect_format, extract_letter, extract_number, normalize_free


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
