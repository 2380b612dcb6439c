"""Plain-text prompts for base models: one request as it is, a conversation as a transcript."""

from __future__ import annotations

from workers.backends.formatting import render_completion
from workers.types import Message, Prompt


def test_a_single_request_is_its_text_without_role_markers() -> None:
    prompt = Prompt.user("Question: Q?\nAnswer:", system="Be brief.")
    assert render_completion(prompt) == "Be brief.\n\nQuestion: Q?\nAnswer:"


def test_a_conversation_is_a_transcript_for_the_model_to_continue() -> None:
    prompt = Prompt(
        messages=[
            Message(role="system", content="Be brief."),
            Message(role="user", content="My name is Ada."),
            Message(role="assistant", content="Hello, Ada."),
            Message(role="user", content="What is my name?"),
        ]
    )
    assert render_completion(prompt) == (
        "Be brief.\n\nUser: My name is Ada.\nAssistant: Hello, Ada.\n"
        "User: What is my name?\nAssistant:"
    )
    prefill = prompt.model_copy(
        update={"messages": [*prompt.messages, Message(role="assistant", content="Your name")]}
    )
    assert render_completion(prefill).endswith("User: What is my name?\nAssistant: Your name")
