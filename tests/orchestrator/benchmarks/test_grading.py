"""Extraction from model-style text, and grading by answer format."""

from __future__ import annotations

import threading

import pytest

from orchestrator.answers import AnswerFormat, boxed_contents, extract
from orchestrator.benchmarks import is_correct
from orchestrator.benchmarks.grading import to_number

LONG_COT = (
    "Let's think step by step. Option (A) is wrong because the enzyme is saturated. "
    "I first thought the answer is (C), but (C) ignores equilibrium.\n"
    * 20
    + "Checking each of (D) through (I) once more, none fits.\n\nThe answer is (J)."
)


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        (LONG_COT, "letter", "J"),
        ("So x = \\boxed{3}. Check: \\boxed{4} fails, final \\boxed{5}.", "number", "5"),
        ("So x = \\boxed{3}. Check: \\boxed{4} fails, final \\boxed{5}.", "math", "5"),
        ("Hence $p = \\boxed{\\frac{1}{2}}$.", "math", "\\frac{1}{2}"),
        ("\\boxed{\\frac{\\sqrt{\\frac{3}{4}}}{2}}", "math", "\\frac{\\sqrt{\\frac{3}{4}}}{2}"),
        ("\\boxed{(1, \\{2\\})} then \\boxed{", "math", "(1, \\{2\\})"),  # unclosed box ignored
        ("The final answer is $\\frac{3}{4}$. I hope it is correct.", "math", "\\frac{3}{4}"),
        ("Thus the answer is 2\\sqrt{2}.\nDone.", "math", "2\\sqrt{2}"),
        ("The answer is 0.5. That is all.", "math", "0.5"),
        ("I could not solve this.", "math", None),
        ("I could not solve this.", "letter", None),
        ("no digits at all", "number", None),
        ("\\boxed{}", "math", None),
        ("total: $1,250.", "number", "1250"),
    ],
)
def test_extract(text: str, fmt: AnswerFormat, expected: str | None) -> None:
    assert extract(text, fmt) == expected


def test_boxed_contents_keeps_every_box_in_order() -> None:
    text = "\\boxed{a} and \\fbox{b_{1}} and \\boxed {\\frac{1}{2}}"
    assert boxed_contents(text) == ["a", "b_{1}", "\\frac{1}{2}"]


@pytest.mark.parametrize(
    ("pred", "gold", "fmt", "expected"),
    [
        ("J", "J", "letter", True),
        ("(b)", "B", "letter", True),
        ("B", "C", "letter", False),
        ("", "A", "letter", False),
        (None, "A", "letter", False),
        ("040", "40", "number", True),
        ("$1,024", "1024", "number", True),
        ("18.00", "18", "number", True),
        ("336^\\circ", "336", "number", True),
        ("17", "18", "number", False),
        ("abc", "18", "number", False),
        ("81", "080 or 081 (both were accepted)", "number", True),
        ("82", "080 or 081 (both were accepted)", "number", False),
        ("\\frac{1}{2}", "0.5", "math", True),
        ("\\dfrac{1}{2}", "\\frac12", "math", True),
        ("2\\sqrt{2}", "\\sqrt{8}", "math", True),
        ("\\frac{\\pi}{2}", "\\pi/2", "math", True),
        ("x+1", "1+x", "math", True),
        ("$1,000$", "1000", "math", True),
        ("\\frac{1}{3}", "0.5", "math", False),
        ("2\\sqrt{3}", "\\sqrt{8}", "math", False),
        ("}{\\frac", "0.5", "math", False),  # unparseable: wrong, no exception
        (None, "0.5", "math", False),
        ("Paris", "paris", "free", True),
    ],
)
def test_is_correct(pred: str | None, gold: str, fmt: AnswerFormat, expected: bool) -> None:
    assert is_correct(pred, gold, fmt) is expected


def test_math_grading_works_off_the_main_thread() -> None:
    """math-verify's signal-based timeout only works in the main thread; workers call this
    from pools."""
    results: list[bool] = []
    worker = threading.Thread(
        target=lambda: results.append(is_correct("2\\sqrt{2}", "\\sqrt{8}", "math"))
    )
    worker.start()
    worker.join()
    assert results == [True]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,024", 1024.0),
        ("-3.5", -3.5),
        ("+7", 7.0),
        ("50\\%", 50.0),
        ("1e3", 1000.0),
        ("x", None),
        ("", None),
    ],
)
def test_to_number(text: str, value: float | None) -> None:
    assert to_number(text) == value
