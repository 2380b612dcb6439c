"""Prompt text for each role. Backends render messages (chat template or plain completion).

A chat query's conversation (system prompt, earlier turns) comes with every prompt: as
messages before the question for a chat model, as an opening paragraph and a transcript
before the question for a base model."""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.answers import AnswerFormat
from orchestrator.conversation import Conversation
from orchestrator.trace import Passage
from workers.types import Prompt

_CITE = "Use the sources where they help, and cite each one you use as [1], [2]."

_INSTRUCTION: dict[AnswerFormat, str] = {
    "letter": (
        'Provide your step-by-step reasoning first, and then print "The answer is (X)", '
        "where X is the answer choice (one capital letter), at the end of your response."
    ),
    "number": (
        'Provide your step-by-step reasoning first, and then print "The answer is \\boxed{X}", '
        "where X is the final answer, at the end of your response."
    ),
    "free": "Answer concisely and correctly.",
    "json": "Answer with JSON only.",
    "yesno": (
        'Provide your reasoning briefly first, and then print "The answer is X", where X is '
        "yes or no (or maybe, only if the evidence cannot decide), at the end of your response."
    ),
}
_INSTRUCTION["math"] = _INSTRUCTION["number"]

# A base (completion) model needs an example of the format it should continue.
_COMPLETION_SHOT: dict[AnswerFormat, str] = {
    "letter": (
        "Question: What is 2 + 3? The options are: (A) 4 (B) 5 (C) 6 (D) 7\n"
        "Answer: 2 + 3 = 5. The answer is (B).\n\n"
    ),
    "number": "Question: What is 12 times 3?\nAnswer: 12 * 3 = 36. The answer is \\boxed{36}.\n\n",
    "free": "Question: What is the largest planet in the solar system?\nAnswer: Jupiter.\n\n",
    "json": (
        "Question: What is the largest planet in the solar system? Answer in JSON.\n"
        'Answer: {"answer": "Jupiter"}\n\n'
    ),
    "yesno": (
        "Question: Is the Pacific the largest ocean on Earth?\n"
        "Answer: The Pacific covers more area than any other ocean. The answer is yes.\n\n"
    ),
}
_COMPLETION_SHOT["math"] = _COMPLETION_SHOT["number"]


def sources_block(passages: Sequence[Passage]) -> str:
    """Numbered sources before the question, so an answer can cite them as [n]."""
    if not passages:
        return ""
    lines = [f"[{p.number}] ({p.source}) {' '.join(p.text.split())}" for p in passages]
    return "Sources:\n" + "\n".join(lines) + "\n\n"


def expert_prompt(
    question: str,
    fmt: AnswerFormat,
    completion: bool,
    question_id: str | None = None,
    conversation: Conversation | None = None,
    passages: Sequence[Passage] = (),
) -> Prompt:
    context = conversation or Conversation()
    sources = sources_block(passages)
    if completion:
        text = (
            f"{context.preamble()}{_COMPLETION_SHOT[fmt]}{context.transcript()}"
            f"{sources}Question: {question}\nAnswer:"
        )
        return Prompt.user(text, question=question, question_id=question_id)
    cite = f" {_CITE}" if passages else ""
    text = f"{sources}Question: {question}\n{_INSTRUCTION[fmt]}{cite}"
    return Prompt(messages=context.messages(text), question=question, question_id=question_id)


def aggregator_prompt(
    question: str,
    fmt: AnswerFormat,
    responses: list[str],
    completion: bool,
    conversation: Conversation | None = None,
) -> Prompt:
    """Anonymised 'Response i' blocks, then the question with its answer format kept."""
    context = conversation or Conversation()
    blocks = "".join(f"### Response {i + 1}:\n{r.strip()}\n\n" for i, r in enumerate(responses))
    head = (
        "You have been provided with a set of responses from various models to the latest user "
        "query. Synthesize them into a single, high-quality response. Critically evaluate the "
        "information: some of it may be biased or incorrect.\n\nResponses from models:\n\n"
    )
    if completion:
        text = (
            f"{context.preamble()}{head}{blocks}{context.transcript()}"
            f"Question: {question}\nBest answer:"
        )
        return Prompt.user(text, question=question)
    text = f"{head}{blocks}Question: {question}\n{_INSTRUCTION[fmt]}"
    return Prompt(messages=context.messages(text), question=question)
