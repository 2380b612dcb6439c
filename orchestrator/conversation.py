"""A chat's context for the committee: the system prompt and the turns before the question.

Every model call of a chat query gets it: a chat model as messages (its chat template renders
them), a base model as a plain-text transcript (prompts.py puts it before the question)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from workers.backends.formatting import transcript
from workers.types import Message


class Conversation(BaseModel):
    system: str = Field(default="", description="the system and developer messages, joined")
    turns: list[Message] = Field(
        default_factory=list, description="the user and assistant messages before the question"
    )

    def size(self) -> int:
        """Characters, for the context-length check."""
        return len(self.system) + sum(len(m.content) for m in self.turns)

    def messages(self, final: str) -> list[Message]:
        """Chat messages ending in a user message `final`: the system prompt first, then the
        turns. Neighbours of one role are merged and a leading assistant turn gets an empty
        user turn before it, since chat templates such as Gemma's insist that user and
        assistant alternate, starting with the user."""
        merged: list[Message] = []
        for message in [*self.turns, Message(role="user", content=final)]:
            if merged and merged[-1].role == message.role:
                joined = f"{merged[-1].content}\n\n{message.content}"
                merged[-1] = Message(role=message.role, content=joined)
            else:
                merged.append(message)
        if merged[0].role == "assistant":
            merged.insert(0, Message(role="user", content=""))
        system = [Message(role="system", content=self.system)] if self.system else []
        return system + merged

    def preamble(self) -> str:
        """The system prompt as a base model's opening paragraph ("" when there is none)."""
        return f"{self.system}\n\n" if self.system else ""

    def transcript(self) -> str:
        """The earlier turns as "User: ..." / "Assistant: ..." lines and a blank line ("" when
        there are none), for a base model."""
        return f"{transcript(self.turns)}\n\n" if self.turns else ""
