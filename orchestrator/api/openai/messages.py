"""Chat messages as symoe's models get them: the committee's question with its conversation,
or a direct call's messages as they are."""

from __future__ import annotations

from orchestrator.api.errors import ApiError
from orchestrator.api.openai.protocol import PIPELINE_MODEL, ChatMessage
from orchestrator.conversation import Conversation
from workers.types import Message

_SYSTEM = ("system", "developer")


def committee_question(messages: list[ChatMessage]) -> tuple[str, Conversation]:
    """The last user message is the question; the system and developer messages are the
    system prompt and the user and assistant messages before the question its conversation.
    A system message after the question joins the system prompt; an assistant message after
    it (a prefill) is refused, since the committee writes its answer whole."""
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if not users or not messages[users[-1]].text().strip():
        raise ApiError(400, "messages: the last user message must have text", param="messages")
    last = users[-1]
    for message in messages[last + 1 :]:
        if message.role == "assistant":
            raise ApiError(
                400,
                f"messages: with model {PIPELINE_MODEL!r} the conversation must end with the "
                "user's question (an assistant message follows it)",
                param="messages",
            )
    system = "\n\n".join(m.text() for m in messages if m.role in _SYSTEM and m.text().strip())
    turns = [
        Message(role="user" if m.role == "user" else "assistant", content=m.text())
        for m in messages[:last]
        if m.role not in _SYSTEM and m.text().strip()
    ]
    return messages[last].text(), Conversation(system=system, turns=turns)


def direct_messages(messages: list[ChatMessage]) -> tuple[str, list[Message]]:
    """A direct call's question (the last user message, for the trace) and its messages as
    they are, developer messages as system ones."""
    users = [m for m in messages if m.role == "user"]
    if not users or not users[-1].text().strip():
        raise ApiError(400, "messages: the last user message must have text", param="messages")
    return users[-1].text(), [
        Message(role="system" if m.role == "developer" else m.role, content=m.text())
        for m in messages
    ]
