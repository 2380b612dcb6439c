"""A chat's conversation in every prompt: chat models get messages (system first, roles
alternating), base models a transcript before the question; JSON mode's instruction."""

from __future__ import annotations

from orchestrator.conversation import Conversation
from orchestrator.overrides import CallOverrides
from orchestrator.prompts import aggregator_prompt, expert_prompt
from workers.types import Message

ADA = Conversation(
    system="You are a helpful assistant.",
    turns=[
        Message(role="user", content="My name is Ada."),
        Message(role="assistant", content="Nice to meet you, Ada."),
    ],
)


def roles(messages: list[Message]) -> list[str]:
    return [m.role for m in messages]


def test_a_chat_expert_gets_the_system_prompt_and_the_turns_before_the_question() -> None:
    prompt = expert_prompt("What is my name?", "free", False, conversation=ADA)
    assert roles(prompt.messages) == ["system", "user", "assistant", "user"]
    assert prompt.messages[0].content == "You are a helpful assistant."
    assert prompt.messages[1].content == "My name is Ada."
    assert prompt.messages[-1].content.startswith("Question: What is my name?\n")
    assert prompt.question == "What is my name?"  # what replay and the trace look up


def test_a_base_expert_gets_the_system_prompt_and_a_transcript() -> None:
    prompt = expert_prompt("What is my name?", "free", True, conversation=ADA)
    (message,) = prompt.messages
    text = message.content
    assert text.startswith("You are a helpful assistant.\n\nQuestion: What is the largest")
    assert "User: My name is Ada.\nAssistant: Nice to meet you, Ada.\n\n" in text
    assert text.endswith("Question: What is my name?\nAnswer:")


def test_the_aggregator_gets_the_conversation_too() -> None:
    chat = aggregator_prompt("What is my name?", "free", ["Ada.", "Bob."], False, ADA)
    assert roles(chat.messages) == ["system", "user", "assistant", "user"]
    assert "### Response 2:\nBob." in chat.messages[-1].content
    base = aggregator_prompt("What is my name?", "free", ["Ada."], True, ADA).messages[0].content
    assert base.startswith("You are a helpful assistant.\n\n")
    assert "User: My name is Ada." in base and base.endswith("What is my name?\nBest answer:")


def test_without_a_conversation_prompts_are_as_before() -> None:
    assert expert_prompt("Q?", "free", False).messages == [
        Message(role="user", content="Question: Q?\nAnswer concisely and correctly.")
    ]
    assert expert_prompt("Q?", "free", True).messages[0].content.startswith("Question: What is")


def test_turns_of_one_role_are_merged_and_a_leading_assistant_turn_gets_a_user_turn() -> None:
    conversation = Conversation(
        turns=[
            Message(role="assistant", content="Hi! How can I help?"),
            Message(role="user", content="My name is Ada."),
        ]
    )
    messages = conversation.messages("What is my name?")
    # no system message; user and assistant alternate from a user turn (Gemma's template
    # raises otherwise); the trailing user turn and the question become one message
    assert roles(messages) == ["user", "assistant", "user"]
    assert messages[0].content == ""
    assert messages[2].content == "My name is Ada.\n\nWhat is my name?"


def test_json_mode_asks_for_json() -> None:
    assert expert_prompt("Q?", "json", False).messages[0].content.endswith("Answer with JSON only.")
    assert '{"answer": "Jupiter"}' in expert_prompt("Q?", "json", True).messages[0].content


def test_overrides_shape_the_expert_calls_and_the_aggregators() -> None:
    overrides = CallOverrides(top_p=0.5, frequency_penalty=1.0, json_schema={"type": "object"})
    assert overrides.update("experts") == {
        "frequency_penalty": 1.0,
        "json_schema": {"type": "object"},
        "top_p": 0.5,
    }
    # top_p is sampling, like temperature: the aggregator keeps its own
    assert overrides.update("aggregate") == {
        "frequency_penalty": 1.0,
        "json_schema": {"type": "object"},
    }
    assert CallOverrides().update("experts") == {}
