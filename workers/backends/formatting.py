"""Prompt rendering shared by backends that feed raw text to a base (non-chat) model."""

from __future__ import annotations

from workers.types import Prompt


def render_completion(prompt: Prompt) -> str:
    """Plain text for a base model: the messages' texts separated by blank lines, with no
    trailing newline, so a prompt ending in "Answer:" is continued on the same line. Roles
    are dropped on purpose: a base model has never seen role markers."""
    return "\n\n".join(m.content for m in prompt.messages)
