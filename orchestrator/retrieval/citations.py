"""Which numbered sources an answer cites ([1], [2], or [1, 3])."""

from __future__ import annotations

import re
from collections.abc import Sequence

from orchestrator.trace import Passage

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def cited(answer: str, passages: Sequence[Passage]) -> list[Passage]:
    """The passages `answer` cites, in passage order; a number no passage has is ignored."""
    numbers = {int(n) for group in _CITATION.findall(answer) for n in group.split(",")}
    return [p for p in passages if p.number in numbers]
