"""What POST /v1/chat/completions does with each request field, over scripted experts that
echo what they were given: the conversation reaches every model call, the honoured fields
reach the generation params of the calls they shape, and every other field is refused with
a 400 that names it before any model runs. The llama.cpp side (JSON that validates, log-
probabilities) runs in tests/workers/test_llamacpp_sampling.py and tests/e2e/test_openai_sdk.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from orchestrator.api.app import create_app
from orchestrator.settings import Settings

from .conftest import ScriptedDeployment, new_key

URL = "/v1/chat/completions"
ADA = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "My name is Ada."},
    {"role": "assistant", "content": "Nice to meet you, Ada."},
    {"role": "developer", "content": "Be brief."},
    {"role": "user", "content": "What is my name?"},
]
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
JSON_SCHEMA = {"type": "json_schema", "json_schema": {"name": "person", "schema": SCHEMA}}


class App:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {new_key(client, 'user')}"}

    def post(self, **body: Any) -> Any:
        return self.client.post(URL, json={"model": "symoe", **body}, headers=self.headers)


def app_over(tmp_path: Path, experts: list[dict[str, object]]) -> Iterator[App]:
    experts_file = tmp_path / "experts.yaml"
    experts_file.write_text(yaml.safe_dump({"experts": experts}))
    settings = Settings(data_dir=tmp_path / "home", experts_file=experts_file, profile_file=None)
    with TestClient(create_app(deployment=ScriptedDeployment(settings))) as client:
        yield App(client)


def scripted(name: str, **options: object) -> dict[str, object]:
    return {
        "name": name,
        "backend": "scripted",
        "model": f"scripted/{name}",
        "roles": ["expert", "aggregator"],
        "generation": {"max_tokens": 2000},
        "options": {"default": f"{name} thinks.", **options},
    }


@pytest.fixture
def echo_prompts(tmp_path: Path) -> Iterator[App]:
    """A chat expert and a base (completion-format) expert that answer with their prompt."""
    base = {**scripted("base", echo="prompt"), "chat_format": "completion"}
    yield from app_over(tmp_path, [scripted("chat", echo="prompt"), base])


@pytest.fixture
def echo_params(tmp_path: Path) -> Iterator[App]:
    """Experts that claim the optional features and answer with their generation params."""
    features = ["penalties", "json_schema", "logprobs"]
    yield from app_over(
        tmp_path, [scripted(f"p{i}", echo="params", features=features) for i in range(2)]
    )


@pytest.fixture
def plain(tmp_path: Path) -> Iterator[App]:
    """Scripted experts that claim no optional feature, and a llama.cpp expert (never run:
    its JSON-schema check needs no model)."""
    llama = {"name": "l0", "backend": "llamacpp", "model": "/nowhere/model.gguf"}
    yield from app_over(tmp_path, [scripted("e0"), scripted("e1"), llama])


def test_the_conversation_reaches_every_call_experts_and_aggregator(echo_prompts: App) -> None:
    response = echo_prompts.post(
        messages=ADA, symoe={"k": 2, "experts": ["chat", "base"], "aggregator": "chat"}
    )
    assert response.status_code == 200, response.text
    trace = response.json()["symoe_trace"]
    assert trace["question"] == "What is my name?"
    calls = {(c["stage"], c["expert"]): c["text"] for c in trace["calls"]}
    assert set(calls) >= {("experts", "chat"), ("experts", "base"), ("aggregate", "chat")}
    for (stage, expert), text in calls.items():
        assert "You are a helpful assistant. Be brief." in text, (stage, expert)
        assert "My name is Ada." in text and "Nice to meet you, Ada." in text
    # a chat model gets messages (echoed "role: content"), a base model a transcript
    chat = calls[("experts", "chat")]
    assert chat.startswith("system: You are a helpful assistant. Be brief. user: My name is Ada.")
    assert "assistant: Nice to meet you, Ada. user: Question: What is my name?" in chat
    base = calls[("experts", "base")]
    assert "User: My name is Ada. Assistant: Nice to meet you, Ada. Question: What" in base
    notes = " ".join(trace["recruitment"]["notes"])
    assert "the system prompt (39 characters) and 2 earlier message(s) went to every" in notes


def test_the_committee_answers_the_last_user_message_only(echo_prompts: App) -> None:
    prefill = [*ADA, {"role": "assistant", "content": "Your name is"}]
    response = echo_prompts.post(messages=prefill)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "messages" and "must end with the user's question" in error["message"]


def test_honoured_fields_reach_the_calls_they_shape(echo_params: App) -> None:
    response = echo_params.post(
        messages=[{"role": "user", "content": "Who?"}],
        top_p=0.5,
        frequency_penalty=0.5,
        presence_penalty=-0.25,
        temperature=0.7,
        response_format=JSON_SCHEMA,
        user="user-42",
        symoe={"k": 2, "aggregation": "llm"},
    )
    assert response.status_code == 200, response.text
    trace = response.json()["symoe_trace"]
    by_stage: dict[str, list[dict[str, Any]]] = {}
    for call in trace["calls"]:
        by_stage.setdefault(call["stage"], []).append(json.loads(call["text"]))
    for params in by_stage["experts"]:
        assert params["top_p"] == 0.5 and params["temperature"] == 0.7
        assert params["frequency_penalty"] == 0.5 and params["presence_penalty"] == -0.25
        assert params["json_schema"] == SCHEMA and params["logprobs"] is None
    (aggregate,) = by_stage["aggregate"]
    # sampling stays the aggregator's own; the penalties and the schema shape its answer too
    assert aggregate["top_p"] == 1.0 and aggregate["temperature"] == 0.0
    assert aggregate["frequency_penalty"] == 0.5 and aggregate["json_schema"] == SCHEMA
    assert "chat: user 'user-42'" in trace["recruitment"]["notes"]
    assert json.loads(response.json()["choices"][0]["message"]["content"]) == aggregate


def test_json_object_asks_for_any_json_object_and_votes_count_json_by_value(
    tmp_path: Path,
) -> None:
    experts = [
        # `default` is a format string: {{ is a brace
        scripted("j0", default='{{"a": 1}}', features=["json_schema"]),
        scripted("j1", default='{{ "a" : 1 }}', features=["json_schema"]),
        scripted("j2", default='{{"a": 2}}', features=["json_schema"]),
    ]
    for app in app_over(tmp_path, experts):
        response = app.post(
            messages=[{"role": "user", "content": "a?"}],
            response_format={"type": "json_object"},
            symoe={"k": 6, "experts": ["j0", "j1", "j2"], "aggregation": "vote"},
        )
        assert response.status_code == 200, response.text
        trace = response.json()["symoe_trace"]
        drawn = trace["recruitment"]["drawn"]
        assert {"j0", "j1"} <= set(drawn)  # differently spaced, equal in value
        ones, twos = len(drawn) - drawn.count("j2"), drawn.count("j2")
        assert ones > twos and json.loads(trace["answer"]) == {"a": 1}
        tally = f'votes: {{"a":1}}={ones}' + (f', {{"a":2}}={twos}' if twos else "")
        assert tally in trace["recruitment"]["notes"]


def test_a_direct_call_gets_the_fields_too(echo_params: App) -> None:
    response = echo_params.post(
        model="p0",
        messages=[{"role": "user", "content": "Who?"}],
        top_p=0.5,
        frequency_penalty=1.0,
        response_format={"type": "json_object"},
        logprobs=True,
        top_logprobs=4,
    )
    assert response.status_code == 200, response.text
    params = json.loads(response.json()["choices"][0]["message"]["content"])
    assert params["top_p"] == 0.5 and params["frequency_penalty"] == 1.0
    assert params["json_schema"] == {"type": "object"} and params["logprobs"] == 4


def test_a_direct_call_to_a_base_model_is_a_transcript_that_stops_at_the_next_turn(
    tmp_path: Path,
) -> None:
    experts = [
        {**scripted("text", echo="prompt"), "chat_format": "completion"},
        {**scripted("stops", echo="params"), "chat_format": "completion"},
    ]
    for app in app_over(tmp_path, experts):
        text = app.post(model="text", messages=ADA).json()["choices"][0]["message"]["content"]
        assert text == (  # the scripted backend joins words with single spaces
            "You are a helpful assistant. Be brief. User: My name is Ada. "
            "Assistant: Nice to meet you, Ada. User: What is my name? Assistant:"
        )
        answer = app.post(model="stops", messages=ADA).json()["choices"][0]["message"]["content"]
        assert json.loads(answer)["stop"] == ["\nQuestion:", "\nQ:", "\nUser:"]
        chosen = app.post(model="stops", messages=ADA, stop="END").json()
        assert json.loads(chosen["choices"][0]["message"]["content"])["stop"] == ["END"]


@pytest.mark.parametrize(
    ("body", "param", "fragment"),
    [
        (
            {"response_format": JSON_SCHEMA},
            "response_format",
            "by expert 'e0' (backend 'scripted')",
        ),
        ({"response_format": {"type": "json_object"}}, "response_format", "not supported by"),
        ({"presence_penalty": 0.5}, "presence_penalty", "not supported by expert"),
        ({"frequency_penalty": -1}, "frequency_penalty", "not supported by expert"),
        ({"model": "e0", "logprobs": True}, "logprobs", "not supported by expert 'e0'"),
        ({"logprobs": True}, "logprobs", "logprobs apply to direct expert calls"),
        ({"top_logprobs": 2}, "top_logprobs", "needs logprobs: true"),
        ({"logit_bias": {"50256": -100}}, "logit_bias", "logit_bias is not supported"),
        ({"tool_choice": "auto"}, "tool_choice", "symoe calls no tools"),
        ({"functions": [{"name": "f"}]}, "functions", "symoe calls no functions"),
        ({"modalities": ["text", "audio"]}, "modalities", "symoe answers in text"),
        ({"store": False}, "store", "symoe stores every completion"),
        ({"reasoning_effort": "high"}, "reasoning_effort", "not supported"),
        ({"temprature": 0.5}, "temprature", "unknown field 'temprature'"),
        (
            {"messages": [{"role": "assistant", "content": "x", "tool_calls": [{"id": "1"}]}]},
            "messages.0.tool_calls",
            "messages[0].tool_calls is not supported",
        ),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "x", "schema": {"type": "nonsense"}},
                },
                "symoe": {"experts": ["l0"], "aggregation": "vote"},
            },
            "response_format",
            "response_format: llama.cpp cannot constrain decoding to this JSON schema",
        ),
        (
            {
                "model": "l0",
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {
                        "name": "x",
                        "schema": {"type": "object", "properties": {"a": {"type": "?"}}},
                    },
                },
            },
            "response_format",
            "cannot constrain decoding",
        ),
    ],
)
def test_fields_symoe_cannot_honour_are_refused_before_any_model_runs(
    plain: App, body: dict[str, Any], param: str, fragment: str
) -> None:
    pytest.importorskip("llama_cpp")  # the llama.cpp expert's schema check converts
    messages = body.pop("messages", [{"role": "user", "content": "What is 1 + 1?"}])
    response = plain.post(messages=messages, **body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param and fragment in error["message"], error
    assert response.headers.get("X-Symoe-Query-Id") is None  # nothing ran or was stored


@pytest.mark.parametrize(
    "body",
    [
        {"logit_bias": {}},
        {"tool_choice": "none", "parallel_tool_calls": False, "tools": []},
        {"modalities": ["text"], "store": True, "service_tier": "auto"},
        {"response_format": {"type": "text"}, "presence_penalty": 0, "frequency_penalty": 0.0},
        {"top_p": 0.9, "user": "someone"},
    ],
)
def test_values_that_ask_nothing_are_accepted(plain: App, body: dict[str, Any]) -> None:
    response = plain.post(messages=[{"role": "user", "content": "What is 1 + 1?"}], **body)
    assert response.status_code == 200, response.text
