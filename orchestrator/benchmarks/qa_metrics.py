"""Extractive-QA scores as SQuAD's official evaluation (v1.1) computes them, for free-form
answers such as HotpotQA's: exact match and token F1 after normalising both sides
(lower case, punctuation and the articles a/an/the removed, whitespace collapsed).

`hotpot_f1` adds HotpotQA's own rule (hotpot_evaluate_v1.py): when either side is 'yes',
'no' or 'noanswer', a prediction that is not exactly the gold scores 0, so "yes it is"
gets no partial credit against "yes"."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)
_CLOSED_ANSWERS = frozenset({"yes", "no", "noanswer"})


def normalize_answer(text: str) -> str:
    """SQuAD's normalize_answer: lower, drop punctuation, drop articles, fix whitespace."""
    lowered = text.lower()
    no_punctuation = "".join(ch for ch in lowered if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", no_punctuation).split())


def exact_match(predicted: str | None, gold: str) -> float:
    """1.0 when the normalised texts are equal, else 0.0 (None, no answer, is 0.0)."""
    if predicted is None:
        return 0.0
    return float(normalize_answer(predicted) == normalize_answer(gold))


def f1_score(predicted: str | None, gold: str) -> float:
    """Harmonic mean of token precision and recall over the normalised texts' tokens (a
    token counted as often as both sides hold it)."""
    if predicted is None:
        return 0.0
    predicted_tokens = normalize_answer(predicted).split()
    gold_tokens = normalize_answer(gold).split()
    common = Counter(predicted_tokens) & Counter(gold_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(predicted_tokens)
    recall = overlap / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def hotpot_f1(predicted: str | None, gold: str) -> float:
    """`f1_score` with HotpotQA's rule for yes/no/noanswer (see the module docstring)."""
    if predicted is None:
        return 0.0
    pred_norm, gold_norm = normalize_answer(predicted), normalize_answer(gold)
    if (pred_norm in _CLOSED_ANSWERS or gold_norm in _CLOSED_ANSWERS) and pred_norm != gold_norm:
        return 0.0
    return f1_score(predicted, gold)


def best_over_golds(predicted: str | None, golds: Iterable[str], exact: bool = False) -> float:
    """SQuAD's metric_max_over_ground_truths: the best score against any accepted answer."""
    score = exact_match if exact else f1_score
    return max((score(predicted, g) for g in golds), default=0.0)
