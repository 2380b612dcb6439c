"""Prompt rendering shared by backends that feed raw text to a base (non-chat) model."""

from __future__ import annotations

from workers.types import Message, Prompt

_SPEAKERS = {"system": "System", "user": "User", "assistant": "Assistant"}
# Where a base model continuing a transcript starts writing the user's next turn
TRANSCRIPT_NEXT_TURN = "\nUser:"


def transcript(messages: list[Message]) -> str:
    """One role-labelled line per message ("User: ...", "Assistant: ...")."""
    return "\n".join(f"{_SPEAKERS[m.role]}: {m.content.strip()}" for m in messages)


def render_completion(prompt: Prompt) -> str:
    """Plain text for a base model. A single request (system texts and one user message, as
    symoe's own prompts are) is the messages' texts separated by blank lines, with no
    trailing newline, so a prompt ending in "Answer:" is continued on the same line; no role
    markers, since a base model has never seen them. A conversation (a direct chat call with
    earlier turns) becomes the system texts, then a transcript that ends in "Assistant:" for
    the model to continue (or in the assistant's own unfinished turn)."""
    turns = [m for m in prompt.messages if m.role != "system"]
    if len(turns) <= 1 and all(m.role == "user" for m in turns):
        return "\n\n".join(m.content for m in prompt.messages)
    head = "".join(f"{m.content}\n\n" for m in prompt.messages if m.role == "system")
    cue = "" if turns[-1].role == "assistant" else "\nAssistant:"
    return f"{head}{transcript(turns)}{cue}"
