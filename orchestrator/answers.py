"""Answer formats and extraction: what a model's text says its final answer is."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Literal

# "json": a chat completion's response_format asked for JSON (see canonical_json);
# "yesno": a closed yes/no/maybe answer (PubMedQA, BoolQ; see extract_yesno)
AnswerFormat = Literal["letter", "number", "math", "free", "json", "yesno"]

# Where a few-shot continuation starts its next item. A base model that has answered goes on
# to invent the next "Question: ..." and answers that too, so only the text before it is
# the model's answer to the question asked.
NEXT_ITEM_STOPS: tuple[str, ...] = ("\nQuestion:", "\nQ:")

_OPTION = re.compile(r"\(([A-J])\)\s*\S")
_ANSWER_IS = re.compile(r"answer is:?\s*\(?\s*\\?(?:boxed\{)?([A-J])\b\)?", re.IGNORECASE)
_ANSWER_COLON = re.compile(r"\banswer\s*[:=]\s*\(?([A-J])\b\)?", re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}")
_LEADING = re.compile(r"^\s*\(([A-J])\)|^\s*([A-J])[.)]?\s*$")
_BOX_OPEN = re.compile(r"\\(?:boxed|fbox)\s*\{")
_MATH_ANSWER_IS = re.compile(r"answer is:?[ \t]*([^\n]+)", re.IGNORECASE)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_YESNO_WORD = r"\**\s*\(?\s*(yes|no|maybe|true|false)\b"
_YESNO_ANSWER = re.compile(
    rf"(?:answer is|answer\s*[:=]|\\boxed\{{)\s*:?\s*{_YESNO_WORD}", re.IGNORECASE
)
_YESNO_LEADING = re.compile(rf"^\W*{_YESNO_WORD}", re.IGNORECASE)
_TRUTH_AS_YESNO = {"true": "yes", "false": "no"}


def detect_format(question: str) -> AnswerFormat:
    """Multiple choice when the question lists at least (A) and (B) options."""
    letters = set(_OPTION.findall(question))
    return "letter" if {"A", "B"} <= letters else "free"


def option_count(question: str) -> int:
    """How many lettered options, (A) to (J), the question lists."""
    return len(set(_OPTION.findall(question)))


def truncate_at_next_item(text: str, stops: Iterable[str] = ()) -> str:
    """The text before the first of `stops` or of NEXT_ITEM_STOPS: what a model that was
    given those stop strings would have returned."""
    cuts = [i for i in (text.find(s) for s in (*stops, *NEXT_ITEM_STOPS) if s) if i >= 0]
    return text[: min(cuts)] if cuts else text


def extract_letter(text: str) -> str | None:
    """The last 'answer is (X)' / 'answer: X' / boxed letter in the text."""
    for pattern in (_ANSWER_IS, _ANSWER_COLON):
        found = pattern.findall(text)
        if found:
            return str(found[-1]).upper()
    boxed = [b.strip() for b in _BOXED.findall(text)]
    letters = [b for b in boxed if re.fullmatch(r"\(?[A-J]\)?", b)]
    if letters:
        return str(letters[-1]).strip("()")
    # a bare choice, as base models answer: "(A) oxygen." or just "B"
    leading = _LEADING.search(text)
    if leading:
        return str(leading.group(1) or leading.group(2))
    return None


def extract_number(text: str) -> str | None:
    boxed = _BOXED.findall(text)
    candidates = boxed[-1:] if boxed else [text]
    found = _NUMBER.findall(candidates[0])
    if not found:
        return None
    value = str(found[-1]).replace(",", "")
    return value[:-2] if value.endswith(".0") else value


def extract_yesno(text: str) -> str | None:
    """'yes', 'no' or 'maybe': the last 'answer is X' / 'answer: X' / boxed X, else the word
    the text opens with ("No, it was ..."); true and false read as yes and no."""
    found = _YESNO_ANSWER.findall(text) or _YESNO_LEADING.findall(text)[:1]
    if not found:
        return None
    word = str(found[-1]).lower()
    return _TRUTH_AS_YESNO.get(word, word)


def boxed_contents(text: str) -> list[str]:
    """What each \\boxed{...} (or \\fbox{...}) holds, braces nested to any depth, in order;
    an unclosed box is ignored."""
    found = []
    for start in _BOX_OPEN.finditer(text):
        depth, i = 1, start.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth == 0:
            found.append(text[start.end() : i - 1])
    return found


def extract_math(text: str) -> str | None:
    """The last boxed expression, else what follows the last 'answer is' (to the end of its
    sentence; $...$ unwrapped)."""
    boxed = [b.strip() for b in boxed_contents(text)]
    if boxed:
        return boxed[-1] or None
    found = _MATH_ANSWER_IS.findall(text)
    if not found:
        return None
    tail = str(found[-1]).strip()
    dollars = re.match(r"\$+([^$]+)\$", tail)
    answer = dollars.group(1) if dollars else re.split(r"\.\s|\.$", tail)[0]
    return answer.strip().rstrip(".").strip() or None


def normalize_free(text: str) -> str | None:
    """A comparable form of a free-text answer: its first non-empty line, lower-cased,
    without trailing punctuation."""
    for line in text.strip().splitlines():
        line = line.strip().strip(".!").lower()
        if line:
            return re.sub(r"\s+", " ", line)[:200]
    return None


def canonical_json(text: str) -> str | None:
    """A comparable form of a JSON answer (keys sorted, no spaces), so a vote counts equal
    values together however they were spaced; None if the text is not JSON."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def extract(text: str, fmt: AnswerFormat) -> str | None:
    """The final answer of `text` in format `fmt`, read only up to the next few-shot item."""
    text = truncate_at_next_item(text)
    if fmt == "letter":
        return extract_letter(text)
    if fmt == "number":
        return extract_number(text)
    if fmt == "math":
        return extract_math(text)
    if fmt == "json":
        return canonical_json(text)
    if fmt == "yesno":
        return extract_yesno(text)
    return normalize_free(text)
