"""Is an extracted answer right? Letters compare as letters, numbers numerically, and math
expressions by symbolic equivalence (math-verify: LaTeX -> SymPy, so \\frac{1}{2} == 0.5 and
2\\sqrt{2} == \\sqrt{8}). An unparseable prediction (None) is wrong."""

from __future__ import annotations

import math
import re
import threading

from orchestrator.answers import AnswerFormat

_NOISE = re.compile(r"\\[!,;: ]|\\?\$|,|\\%|%|\^\s*\{?\\circ\}?|°|\s+")
_NUMBER_IN = re.compile(r"-?\d+(?:\.\d+)?")


def to_number(text: str) -> float | None:
    """'$1,024', '040', '336^\\circ', '12.50.' -> a float; anything else -> None."""
    cleaned = _NOISE.sub("", text).rstrip(".")
    if cleaned.startswith("+"):
        cleaned = cleaned[1:]
    if not re.fullmatch(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?", cleaned):
        return None
    return float(cleaned)


def _accepted_numbers(gold: str) -> list[float]:
    value = to_number(gold)
    if value is not None:
        return [value]
    # a gold like '080 or 081 (both were accepted)' (one item of the paper's AIME split)
    if re.search(r"\bor\b", gold):
        return [float(n) for n in _NUMBER_IN.findall(gold)]
    return []


def numbers_equal(predicted: str, gold: str) -> bool:
    value = to_number(predicted)
    if value is None:
        return False
    return any(math.isclose(value, g, rel_tol=1e-9, abs_tol=1e-6) for g in _accepted_numbers(gold))


def _letter(text: str) -> str:
    return text.strip().strip("().").strip().upper()


_LATEX_NOISE = re.compile(r"\\left|\\right|\\displaystyle|\\[!,;: ]|\s+|\$")


def _normalise_math(text: str) -> str:
    text = _LATEX_NOISE.sub("", text).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    return text.rstrip(".")


def math_equal(predicted: str, gold: str) -> bool:
    """Same normalised text, same number, or the same expression for math-verify."""
    if _normalise_math(predicted) == _normalise_math(gold):
        return True
    pred_number, gold_number = to_number(predicted), to_number(gold)
    if pred_number is not None and gold_number is not None:
        return math.isclose(pred_number, gold_number, rel_tol=1e-9, abs_tol=1e-6)
    return _math_verify(predicted, gold)


def _math_verify(predicted: str, gold: str) -> bool:
    try:
        from math_verify import parse, verify
    except ImportError:  # a declared dependency; without it only the checks above apply
        return False
    # math-verify's timeouts use signal.alarm, which only the main thread may set
    limit = 5 if threading.current_thread() is threading.main_thread() else None
    try:
        gold_parsed = parse(f"${gold.strip().strip('$')}$", parsing_timeout=limit)
        pred_parsed = parse(f"${predicted.strip().strip('$')}$", parsing_timeout=limit)
        if not gold_parsed or not pred_parsed:
            return False
        return bool(verify(gold_parsed, pred_parsed, timeout_seconds=limit))
    except Exception:  # the parser can fail in many ways on model output: count it wrong
        return False


def is_correct(predicted: str | None, gold: str, fmt: AnswerFormat) -> bool:
    if predicted is None:
        return False
    if fmt == "letter":
        return bool(_letter(predicted)) and _letter(predicted) == _letter(gold)
    if fmt == "number":
        return numbers_equal(predicted, gold)
    if fmt == "math":
        return math_equal(predicted, gold)
    return predicted.strip().lower() == gold.strip().lower()
