"""Turning a growing decoded text into deltas for streaming.

A stop string may only be recognised once its last character is decoded, and the output is
cut before it; so the last `longest stop - 1` characters are held back until the next token
(or the end) shows they are not the start of a stop string. What has been sent is therefore
always a prefix of the final text, and the deltas join to exactly the final text.
"""

from __future__ import annotations

from collections.abc import Callable


class TextStream:
    def __init__(self, emit: Callable[[str], None], stop: list[str]) -> None:
        self.emit = emit
        self.hold = max((len(s) for s in stop if s), default=1) - 1
        self.sent = 0

    def update(self, text: str) -> None:
        """The text decoded so far (it only grows)."""
        safe = len(text) - self.hold
        if safe > self.sent:
            self.emit(text[self.sent : safe])
            self.sent = safe

    def finish(self, final: str) -> None:
        """The final text (cut at a stop string): send what is still missing."""
        if len(final) > self.sent:
            self.emit(final[self.sent :])
            self.sent = len(final)
