"""A real `symoe serve` process with the real llama.cpp experts, driven by the official
`openai` SDK and by a LangChain chain (`ChatPromptTemplate | ChatSymoe | StrOutputParser`):
completions, streaming, direct calls, and the request fields (the conversation reaching
every model call, response_format's JSON, logprobs, refusals)."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import openai
import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from pydantic import BaseModel

from orchestrator.api.process import create_key, running_server
from orchestrator.clients.langchain import ChatSymoe, SymoeAPIError
from tests.conftest import shared_data_dir

pytestmark = [pytest.mark.llamacpp, pytest.mark.embeddings, pytest.mark.slow]

EXPERTS = {"smollm2-135m", "gemma3-270m"}
QUESTION = "What is the capital of France?"
# Small answers keep each committee (three expert calls and the aggregator) to seconds.
SMALL: dict[str, Any] = {"max_tokens": 16, "extra_body": {"symoe": {"aggregation": "llm"}}}


@dataclass
class Server:
    url: str
    key: str
    db: Path

    def openai(self, key: str | None = None) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=key or self.key, max_retries=0)


@pytest.fixture(scope="module")
def server(symoe_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module, on a free loopback port, with its own database and the
    session's models (the Gemma file is assembled once per test session)."""
    data = tmp_path_factory.mktemp("openai-home")
    shared = {name: symoe_home / name for name in ("models", "cache")}
    for name, target in shared.items():
        if target.exists():
            (data / name).symlink_to(target, target_is_directory=True)
    env = {
        **os.environ,
        "SYMOE_DATA_DIR": str(data),
        "SYMOE_SHARED_DATA_DIR": str(shared_data_dir()),
        "HF_HUB_OFFLINE": "1",
    }
    key = create_key(env)
    with running_server(env, data / "serve.log") as proc:
        yield Server(url=proc.url, key=key, db=data / "symoe.db")


def test_openai_sdk_lists_models_and_completes_a_chat(server: Server) -> None:
    client = server.openai()
    assert {m.id for m in client.models.list()} == {"symoe", *EXPERTS}

    raw = client.chat.completions.with_raw_response.create(
        model="symoe", messages=[{"role": "user", "content": QUESTION}], **SMALL
    )
    completion = raw.parse()
    trace = completion.model_extra["symoe_trace"] if completion.model_extra else {}
    assert raw.headers["x-symoe-query-id"] == trace["query_id"]
    content = completion.choices[0].message.content
    assert content and content.strip() and content == trace["answer"]
    assert completion.choices[0].finish_reason in {"stop", "length"}
    calls = trace["calls"]
    assert [c["stage"] for c in calls].count("experts") == len(trace["recruitment"]["drawn"])
    assert [c["expert"] for c in calls if c["stage"] == "aggregate"] == [
        trace["recruitment"]["aggregator"]
    ]
    assert all(c["completion_tokens"] <= 16 for c in calls)
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens == sum(c["prompt_tokens"] for c in calls) > 0
    assert usage.completion_tokens == sum(c["completion_tokens"] for c in calls) > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_openai_sdk_streams_a_chat(server: Server) -> None:
    stream = server.openai().chat.completions.create(
        model="symoe",
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
        **SMALL,
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] in {"stop", "length"} and not any(finishes[:-1])
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    trace = (last.model_extra or {})["symoe_trace"]
    assert text.strip() and text == trace["answer"]
    assert last.usage.completion_tokens == sum(c["completion_tokens"] for c in trace["calls"])
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens


def test_tokens_arrive_as_llama_cpp_decodes_them(server: Server) -> None:
    stream = server.openai().chat.completions.create(
        model="smollm2-135m",  # a direct call: its answer is long enough to see the pieces
        messages=[{"role": "user", "content": "Name three colors."}],
        max_tokens=16,
        stream=True,
    )
    chunks = list(stream)
    contents = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    trace = (chunks[-1].model_extra or {})["symoe_trace"]
    (call,) = trace["calls"]
    assert "".join(contents) == trace["answer"] == call["text"]
    assert call["completion_tokens"] >= 6 and len(contents) >= 4  # not one piece at the end


def test_openai_sdk_calls_one_expert_and_reads_errors(server: Server) -> None:
    client = server.openai()
    completion = client.chat.completions.create(
        model="smollm2-135m",
        messages=[
            {"role": "system", "content": "Answer in one word."},
            {"role": "user", "content": QUESTION},
        ],
        max_tokens=8,
    )
    assert completion.model == "smollm2-135m"
    trace = (completion.model_extra or {})["symoe_trace"]
    assert [c["expert"] for c in trace["calls"]] == ["smollm2-135m"]
    assert completion.usage is not None and completion.usage.completion_tokens <= 8

    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert isinstance(missing.value.body, dict) and missing.value.body["param"] == "model"
    with pytest.raises(openai.BadRequestError, match="exceeds the budget"):
        client.chat.completions.create(
            model="symoe",
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"symoe": {"k": 64}},
        )
    with pytest.raises(openai.AuthenticationError):
        server.openai(key="sk-symoe-nope").models.list()


def test_langchain_chain_invokes_and_streams(server: Server) -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You answer questions."), ("human", "{question}")]
    )
    model = ChatSymoe(
        base_url=f"{server.url}/v1", api_key=server.key, aggregation="llm", max_tokens=16
    )
    chain = prompt | model | StrOutputParser()
    answer = chain.invoke({"question": QUESTION})
    assert isinstance(answer, str) and answer.strip()

    pieces = list(chain.stream({"question": QUESTION}))
    assert all(isinstance(p, str) for p in pieces) and "".join(pieces).strip()

    message = model.invoke(QUESTION)
    trace = message.response_metadata["symoe_trace"]
    assert message.content == trace["answer"]
    assert message.usage_metadata is not None
    assert message.usage_metadata["output_tokens"] == sum(
        c["completion_tokens"] for c in trace["calls"]
    )

    with pytest.raises(SymoeAPIError, match="does not exist"):
        ChatSymoe(base_url=server.url, api_key=server.key, model="nope").invoke("hi")


def test_a_client_that_disconnects_mid_stream_leaves_the_batch_whole(server: Server) -> None:
    body = {
        "model": "symoe",
        "messages": [{"role": "user", "content": "Name a large ocean."}],
        "stream": True,
        "max_tokens": 16,
        "symoe": {"aggregation": "llm"},
    }
    headers = {"Authorization": f"Bearer {server.key}"}
    with httpx.stream(
        "POST", f"{server.url}/v1/chat/completions", json=body, headers=headers, timeout=60
    ) as response:
        assert response.status_code == 200
        query_id = response.headers["x-symoe-query-id"]
        first = next(line for line in response.iter_lines() if line.startswith("data:"))
        assert '"role":"assistant"' in first
    # the connection is closed: the committee works on and stores the whole batch
    deadline = time.monotonic() + 600
    with sqlite3.connect(server.db) as conn:
        while True:
            row = conn.execute("select status from queries where id = ?", (query_id,)).fetchone()
            if row is not None or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert row == ("answered",)
        (drawn_json,) = conn.execute(
            "select drawn from plans where query_id = ?", (query_id,)
        ).fetchone()
        stages = [
            s
            for (s,) in conn.execute(
                "select stage from model_calls where query_id = ?", (query_id,)
            )
        ]
        (answer,) = conn.execute(
            "select text from final_answers where query_id = ?", (query_id,)
        ).fetchone()
    assert stages.count("experts") == len(json.loads(drawn_json)) and stages.count("aggregate") == 1
    assert answer.strip()
    # and the server still serves
    assert httpx.get(f"{server.url}/healthz").status_code == 200


ADA_SYSTEM = (
    "You are a helpful assistant. Remember what the user tells you about themselves and use "
    "it in your answers. Keep every answer short and friendly."
)
NAME = "What is my name?"
# Both experts, the chat model aggregating: each model's template or transcript is used.
BOTH: dict[str, Any] = {
    "k": 2,
    "experts": sorted(EXPERTS),
    "aggregation": "llm",
    "aggregator": "smollm2-135m",
}


def prompt_tokens(trace: dict[str, Any]) -> dict[tuple[str, str, int], int]:
    return {(c["stage"], c["expert"], c["slot"]): c["prompt_tokens"] for c in trace["calls"]}


def test_the_system_prompt_and_earlier_turns_reach_every_model_call(server: Server) -> None:
    client = server.openai()
    asked: dict[str, dict[str, Any]] = {}
    for name, messages in {
        "bare": [{"role": "user", "content": NAME}],
        "conversation": [
            {"role": "system", "content": ADA_SYSTEM},
            {"role": "user", "content": "My name is Ada."},
            {"role": "assistant", "content": "Nice to meet you, Ada."},
            {"role": "user", "content": NAME},
        ],
    }.items():
        completion = client.chat.completions.create(
            model="symoe", messages=messages, max_tokens=8, extra_body={"symoe": BOTH}
        )
        asked[name] = (completion.model_extra or {})["symoe_trace"]
    bare, conversation = (prompt_tokens(asked[n]) for n in ("bare", "conversation"))
    # the same question draws the same experts; every call of the chat was given more:
    # the system prompt and the two turns, in the chat template or the base model's transcript
    assert bare.keys() == conversation.keys()
    assert {stage for stage, _, _ in bare} == {"experts", "aggregate"}
    for call, tokens in bare.items():
        if call[0] == "experts":
            assert conversation[call] >= tokens + 30, call
        else:  # the aggregator also reads the experts' answers (at most 8 tokens each)
            assert conversation[call] > tokens, call
    notes = " ".join(asked["conversation"]["recruitment"]["notes"])
    assert "and 2 earlier message(s) went to every model call" in notes


class Capital(BaseModel):
    city: Literal["Paris", "London", "Rome"]
    certain: bool


@pytest.mark.parametrize("aggregation", ["llm", "vote"])
def test_response_format_json_schema_gives_json_that_matches_it(
    server: Server, aggregation: str
) -> None:
    """The SDK's own structured-output helper sends the pydantic model's strict JSON schema
    and parses the answer into the model; every call of the committee is constrained, so
    each expert's answer parses too (and a vote counts them by value)."""
    completion = server.openai().chat.completions.parse(
        model="symoe",
        messages=[{"role": "user", "content": "What is the capital of France? Answer in JSON."}],
        response_format=Capital,
        max_tokens=48,
        extra_body={"symoe": {**BOTH, "aggregation": aggregation}},
    )
    message = completion.choices[0].message
    assert isinstance(message.parsed, Capital)
    trace = (completion.model_extra or {})["symoe_trace"]
    for call in trace["calls"]:
        Capital.model_validate_json(call["text"])
    assert message.content == trace["answer"]


def test_logprobs_of_a_direct_call(server: Server) -> None:
    client = server.openai()
    completion = client.chat.completions.create(
        model="smollm2-135m",
        messages=[{"role": "user", "content": "Name three colors."}],
        max_tokens=6,
        logprobs=True,
        top_logprobs=2,
    )
    choice = completion.choices[0]
    assert choice.logprobs is not None and choice.logprobs.content is not None
    entries = choice.logprobs.content
    assert completion.usage is not None and len(entries) == completion.usage.completion_tokens
    assert "".join(e.token for e in entries) == choice.message.content
    assert all(len(e.top_logprobs) == 2 and e.logprob <= 0.0 for e in entries)

    stream = client.chat.completions.create(
        model="smollm2-135m",
        messages=[{"role": "user", "content": "Name three colors."}],
        max_tokens=6,
        logprobs=True,
        stream=True,
    )
    chunks = [c for c in stream if c.choices]
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    streamed = [
        e for c in chunks if c.choices[0].logprobs for e in c.choices[0].logprobs.content or []
    ]
    assert text == choice.message.content and "".join(e.token for e in streamed) == text


@pytest.mark.parametrize(
    ("request_fields", "param"),
    [
        ({"logit_bias": {"1": 10}}, "logit_bias"),
        ({"logprobs": True}, "logprobs"),  # the committee's answer has no token logprobs
        ({"extra_body": {"temprature": 0.5}}, "temprature"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
    ],
)
def test_fields_symoe_does_not_honour_are_refused_through_the_sdk(
    server: Server, request_fields: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        server.openai().chat.completions.create(
            model="symoe", messages=[{"role": "user", "content": QUESTION}], **request_fields
        )
    assert refused.value.status_code == 400
    assert isinstance(refused.value.body, dict) and refused.value.body["param"] == param
