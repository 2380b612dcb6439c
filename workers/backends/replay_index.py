"""One model's recorded answers, indexed for lookup by question id and by question text.

The columns come from `replay_files` (a recordings zip or its compact cache); a `Recording` is
built only when a lookup asks for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from hashlib import blake2b
from pathlib import Path
from typing import Any, NamedTuple

# The Symbolic-MoE splits append " The options are: (A) ... (J) ..." to the bare question.
_OPTIONS_MARK = "The options are:"
# question_key is None where it equals question; opts is None where the question is unique.
COLUMNS = (
    "question_id",
    "question",
    "generated_text",
    "pred",
    "answer",
    "category",
    "question_key",
    "opts",
)
Columns = dict[str, list[Any]]


class Recording(NamedTuple):
    question_id: str
    question: str
    generated_text: str
    pred: str | None
    answer: str
    category: str


def normalise_question(text: str) -> str:
    """The bare question: drop an appended options list, collapse whitespace."""
    # str.find, not a regex: this runs once per recorded question on every load.
    cut = text.find(_OPTIONS_MARK)
    return " ".join((text[:cut] if cut >= 0 else text).split())


def options_key(rendered: str) -> str:
    # Whitespace and a final full stop differ between the recordings and the paper splits.
    norm = " ".join(rendered.split()).rstrip(".").rstrip()
    return blake2b(norm.encode(), digest_size=8).hexdigest()


def _suffix_key(text: str) -> str | None:
    cut = text.find(_OPTIONS_MARK)
    return options_key(text[cut + len(_OPTIONS_MARK) :]) if cut >= 0 else None


class ModelRecording:
    """All recordings of one model, indexed by question id and by normalised question text."""

    def __init__(self, model: str, path: Path, columns: Columns) -> None:
        self.model = model
        self.path = path
        self._ids: list[str] = columns["question_id"]
        self._questions: list[str] = columns["question"]
        self._texts: list[str] = columns["generated_text"]
        self._preds: list[str | None] = columns["pred"]
        self._answers: list[str] = columns["answer"]
        self._categories: list[str] = columns["category"]
        n = len(self._ids)
        self._by_id = dict(zip(self._ids, range(n), strict=True))
        keys = [
            q if k is None else k
            for q, k in zip(self._questions, columns["question_key"], strict=True)
        ]
        # Built from the end so the first record in file order wins for a repeated text.
        self._by_text = dict(zip(reversed(keys), range(n - 1, -1, -1), strict=True))
        # ~358 MMLU-Pro question texts occur several times, mostly with other options; keep
        # their options keys so an options suffix in the query can pick the right record.
        self._repeated: dict[str, list[tuple[str, int]]] = {}
        for i, opts in enumerate(columns["opts"]):
            if opts is not None:
                self._repeated.setdefault(keys[i], []).append((opts, i))

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[Recording]:
        return (self._record(i) for i in range(len(self._ids)))

    def _record(self, i: int) -> Recording:
        return Recording(
            self._ids[i],
            self._questions[i],
            self._texts[i],
            self._preds[i],
            self._answers[i],
            self._categories[i],
        )

    def by_id(self, question_id: str | int) -> Recording | None:
        i = self._by_id.get(str(question_id).strip())
        return None if i is None else self._record(i)

    def by_question(self, text: str) -> Recording | None:
        """Match on the bare question; when it is not unique, the options suffix (if any)
        picks the record with the same options, else the first in file order wins."""
        key = normalise_question(text)
        i = self._by_text.get(key)
        if i is None:
            return None
        if key in self._repeated and (wanted := _suffix_key(text)) is not None:
            i = next((j for opts, j in self._repeated[key] if opts == wanted), i)
        return self._record(i)
