"""`llm`: the policy answers nothing itself, it writes the aggregator model's prompt."""

from __future__ import annotations

from orchestrator.aggregators import AGGREGATORS, AggregationInput, ExpertAnswer
from orchestrator.aggregators.llm import LLMAggregator
from orchestrator.conversation import Conversation
from workers.types import Message

QUESTION = "What is 6 times 7?"
HEAD = (
    "You have been provided with a set of responses from various models to the latest user "
    "query. Synthesize them into a single, high-quality response. Critically evaluate the "
    "information: some of it may be biased or incorrect.\n\nResponses from models:\n\n"
)
# The blank answer is left out, so the two others are Response 1 and Response 2.
BLOCKS = "### Response 1:\n6 * 7 = 42.\n\n### Response 2:\nIt is 48.\n\n"
NUMBER_INSTRUCTION = (
    'Provide your step-by-step reasoning first, and then print "The answer is \\boxed{X}", '
    "where X is the final answer, at the end of your response."
)


def _input(conversation: Conversation | None = None) -> AggregationInput:
    return AggregationInput(
        question=QUESTION,
        fmt="number",
        answers=[
            ExpertAnswer(expert="e1", text="  6 * 7 = 42.  ", extracted="42"),
            ExpertAnswer(expert="e2", text=" \n", extracted=None),
            ExpertAnswer(expert="e3", text="It is 48.", extracted="48"),
        ],
        weights={"e1": 0.9, "e3": 0.1},
        conversation=conversation,
    )


def test_the_policy_is_registered_and_uses_a_model() -> None:
    assert AGGREGATORS.get("llm") is LLMAggregator
    assert LLMAggregator.uses_model is True


def test_a_chat_model_gets_the_responses_and_the_format_instruction() -> None:
    outcome = LLMAggregator().aggregate(_input(), completion=False)
    assert outcome.answer is None
    assert outcome.extracted is None
    assert outcome.notes == []
    assert outcome.prompt is not None
    assert outcome.prompt.question == QUESTION
    assert outcome.prompt.messages == [
        Message(role="user", content=f"{HEAD}{BLOCKS}Question: {QUESTION}\n{NUMBER_INSTRUCTION}")
    ]


def test_a_completion_model_gets_text_to_continue_after_best_answer() -> None:
    outcome = LLMAggregator().aggregate(_input(), completion=True)
    assert outcome.answer is None
    assert outcome.prompt is not None
    assert outcome.prompt.messages == [
        Message(role="user", content=f"{HEAD}{BLOCKS}Question: {QUESTION}\nBest answer:")
    ]


def test_a_conversation_comes_as_messages_or_as_a_transcript() -> None:
    conversation = Conversation(
        system="Be brief.",
        turns=[
            Message(role="user", content="Hi"),
            Message(role="assistant", content="Hello!"),
        ],
    )
    chat = LLMAggregator().aggregate(_input(conversation), completion=False).prompt
    assert chat is not None
    assert [(m.role, m.content) for m in chat.messages[:3]] == [
        ("system", "Be brief."),
        ("user", "Hi"),
        ("assistant", "Hello!"),
    ]
    assert chat.messages[3].role == "user"
    assert chat.messages[3].content.startswith(HEAD)
    assert len(chat.messages) == 4

    base = LLMAggregator().aggregate(_input(conversation), completion=True).prompt
    assert base is not None
    assert len(base.messages) == 1
    text = base.messages[0].content
    assert text.startswith(f"Be brief.\n\n{HEAD}{BLOCKS}")
    assert text.endswith(f"User: Hi\nAssistant: Hello!\n\nQuestion: {QUESTION}\nBest answer:")


def test_when_every_answer_is_blank_the_answer_is_empty_and_no_prompt_is_made() -> None:
    item = AggregationInput(
        question=QUESTION,
        fmt="number",
        answers=[ExpertAnswer(expert="e1", text=""), ExpertAnswer(expert="e2", text="  ")],
    )
    for completion in (False, True):
        outcome = LLMAggregator().aggregate(item, completion=completion)
        assert outcome.prompt is None
        assert outcome.answer == ""
        assert outcome.notes == ["every expert answer was empty"]
