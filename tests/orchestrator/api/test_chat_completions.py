"""POST /v1/chat/completions and GET /v1/models over scripted experts: the OpenAI shapes,
usage summed over every call, streaming, direct expert calls, errors, and a client that
leaves mid-stream. The real OpenAI SDK and LangChain run in tests/e2e/test_openai_sdk.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from orchestrator.api.answers.schemas import AnswerOptions
from orchestrator.api.app import create_app
from orchestrator.api.openai.prepared import ChatOutcome
from orchestrator.api.openai.protocol import ChatCompletionRequest, ChatMessage
from orchestrator.api.openai.streaming import TextFeed
from orchestrator.api.services import ApiServices
from orchestrator.settings import Settings

from .conftest import MC, ScriptedDeployment, scripted_experts

URL = "/v1/chat/completions"


def chat(content: str = MC, **extra: Any) -> dict[str, Any]:
    return {"model": "symoe", "messages": [{"role": "user", "content": content}], **extra}


def services_of(client: TestClient) -> ApiServices:
    services: ApiServices = client.app.state.services  # type: ignore[attr-defined]
    return services


def events(text: str) -> list[dict[str, Any] | str]:
    """The data of each server-sent event ("[DONE]" as a string); comments skipped."""
    out: list[dict[str, Any] | str] = []
    for block in text.split("\n\n"):
        if block.startswith("data: "):
            data = block.removeprefix("data: ")
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def test_the_committee_answers_in_openai_shape_with_usage_and_trace(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    body = {
        "model": "symoe",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": [{"type": "text", "text": MC}]},
        ],
        "symoe": {"k": 2, "aggregation": "llm"},
    }
    response = client.post(URL, json=body, headers=user_headers)
    assert response.status_code == 200, response.text
    completion = response.json()
    trace = completion["symoe_trace"]
    assert completion["object"] == "chat.completion" and completion["model"] == "symoe"
    assert completion["id"] == f"chatcmpl-{trace['query_id']}"
    assert response.headers["X-Symoe-Query-Id"] == trace["query_id"]
    (choice,) = completion["choices"]
    assert choice["message"] == {"role": "assistant", "content": trace["answer"]}
    assert choice["finish_reason"] == "stop" and trace["answer"].endswith("(B).")
    assert [c["stage"] for c in trace["calls"]] == ["experts", "experts", "aggregate"]
    prompt = sum(c["prompt_tokens"] for c in trace["calls"])
    generated = sum(c["completion_tokens"] for c in trace["calls"])
    assert completion["usage"] == {
        "prompt_tokens": prompt,
        "completion_tokens": generated,
        "total_tokens": prompt + generated,
    }
    assert generated > 0 and prompt > 0
    notes = " ".join(trace["recruitment"]["notes"])
    assert "the system prompt (14 characters) and 0 earlier message(s) went to every" in notes
    stored = services_of(client).deployment.stores.traces.get_trace(trace["query_id"])
    assert stored is not None and stored.answer == trace["answer"] and len(stored.calls) == 3


def test_max_tokens_caps_experts_and_aggregator(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    response = client.post(
        URL,
        json=chat(max_completion_tokens=2, temperature=0.5, seed=7, symoe={"k": 2}),
        headers=user_headers,
    )
    assert response.status_code == 200, response.text
    completion = response.json()
    calls = completion["symoe_trace"]["calls"]
    assert [c["completion_tokens"] for c in calls] == [2, 2, 2]
    assert completion["choices"][0]["finish_reason"] == "length"
    assert completion["usage"]["completion_tokens"] == 6


def test_an_expert_by_name_is_a_direct_call_that_is_recorded(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    body = {
        "model": "e1",
        "messages": [
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "What is 1 + 1?"},
        ],
    }
    response = client.post(URL, json=body, headers=user_headers)
    assert response.status_code == 200, response.text
    completion = response.json()
    trace = completion["symoe_trace"]
    assert completion["model"] == "e1"
    assert completion["choices"][0]["message"]["content"] == "e1 thinks. The answer is (B)."
    assert trace["recruitment"]["recruiter"] == "direct" and trace["recruitment"]["drawn"] == ["e1"]
    (call,) = trace["calls"]
    # the scripted backend counts the words of every message it was given: all four went
    assert call["prompt_tokens"] == 2 + 1 + 1 + 5
    assert completion["usage"]["total_tokens"] == call["prompt_tokens"] + call["completion_tokens"]
    store = services_of(client).deployment.stores.traces
    stored = store.get_trace(trace["query_id"])
    assert stored is not None and stored.question == "What is 1 + 1?"
    batch = store.get_batch(trace["batch_id"])
    assert batch is not None and [x.expert for x in batch.loads] == ["e1"]


@pytest.mark.parametrize("include_usage", [False, True])
def test_streams_chunks_then_usage_and_trace_then_done(
    client: TestClient, user_headers: dict[str, str], include_usage: bool
) -> None:
    body = chat(stream=True, symoe={"k": 3})
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    with client.stream("POST", URL, json=body, headers=user_headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        query_id = response.headers["X-Symoe-Query-Id"]
        data = events(response.read().decode())
    assert data[-1] == "[DONE]"
    chunks = [d for d in data[:-1] if isinstance(d, dict)]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert {c["id"] for c in chunks} == {f"chatcmpl-{query_id}"}
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    with_usage = [c for c in chunks if "usage" in c]
    assert len(with_usage) == 1 and with_usage[0] is chunks[-1]
    trace = chunks[-1]["symoe_trace"]
    assert trace["query_id"] == query_id
    pieces = [
        ch["delta"]["content"]
        for c in chunks
        for ch in c["choices"]
        if ch["delta"].get("content") and "role" not in ch["delta"]
    ]
    # the aggregator's text as it was made (the scripted backend streams word by word)
    assert "".join(pieces) == trace["answer"] and len(pieces) == len(trace["answer"].split())
    finish = [ch for c in chunks for ch in c["choices"] if "finish_reason" in ch]
    assert [ch["finish_reason"] for ch in finish] == ["stop"]
    if include_usage:  # OpenAI's way: a last chunk with no choices carries the usage
        assert chunks[-1]["choices"] == [] and "usage" not in chunks[-2]
    usage = chunks[-1]["usage"]
    assert usage["completion_tokens"] == sum(c["completion_tokens"] for c in trace["calls"])
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert services_of(client).deployment.stores.traces.get_trace(query_id) is not None


def test_a_voted_answer_streams_in_one_piece(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    body = chat(stream=True, symoe={"k": 2, "aggregation": "vote"})
    with client.stream("POST", URL, json=body, headers=user_headers) as response:
        data = events(response.read().decode())
    chunks = [d for d in data[:-1] if isinstance(d, dict)]
    pieces = [
        ch["delta"]["content"]
        for c in chunks
        for ch in c["choices"]
        if ch["delta"].get("content") and "role" not in ch["delta"]
    ]
    assert pieces == [chunks[-1]["symoe_trace"]["answer"]]


def test_lists_symoe_and_the_enabled_experts(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    response = client.get("/v1/models", headers=user_headers)
    assert response.status_code == 200
    listing = response.json()
    assert listing["object"] == "list"
    assert [m["id"] for m in listing["data"]] == ["symoe", "e0", "e1", "e2"]
    assert all(
        m["object"] == "model" and isinstance(m["created"], int) and m["owned_by"]
        for m in listing["data"]
    )
    assert client.get("/v1/models/e2", headers=user_headers).json()["id"] == "e2"
    missing = client.get("/v1/models/nope", headers=user_headers)
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "model"
    assert client.get("/v1/models").status_code == 401


def test_a_disabled_expert_is_neither_listed_nor_callable(tmp_path: Path) -> None:
    with client_over(tmp_path, disabled="e1") as test_client:
        key = test_client.app.state.services.keys.create("t", "user").key  # type: ignore[attr-defined]
        headers = {"Authorization": f"Bearer {key}"}
        listing = test_client.get("/v1/models", headers=headers).json()
        assert [m["id"] for m in listing["data"]] == ["symoe", "e0"]
        response = test_client.post(URL, json={**chat(), "model": "e1"}, headers=headers)
        assert response.status_code == 404 and response.json()["error"]["param"] == "model"
        assert test_client.post(URL, json={**chat(), "model": "e0"}, headers=headers).is_success


@pytest.mark.parametrize(
    ("body", "status", "param", "fragment"),
    [
        ({**chat(), "model": "gpt-4o"}, 404, "model", "model 'gpt-4o' does not exist"),
        (chat(symoe={"k": 9}), 400, "k", "exceeds the budget of 8 experts"),
        (chat(symoe={"k": 65}), 400, "k", "k=65 exceeds the budget of 8 experts"),  # not 64
        (chat(symoe={"surprise": 1}), 422, "symoe.surprise", "Extra inputs"),
        (chat(symoe={"experts": ["nope"]}), 404, None, "unknown expert 'nope'"),
        (chat(max_tokens=100_000), 400, "max_tokens", "budget of 2048 tokens per request"),
        (chat(seed=2**63), 422, "seed", "less than or equal to"),
        (chat(max_tokens=0), 422, "max_tokens", "greater than or equal to 1"),
        (chat(n=2), 422, "n", "less than or equal to 1"),
        (chat(stop=["\n"]), 400, "stop", "direct expert calls"),
        (chat(tools=[{"type": "function"}]), 400, "tools", "not supported"),
        (chat(""), 400, "messages", "last user message must have text"),
        ({"model": "symoe", "messages": []}, 422, "messages", "at least 1"),
        (
            {"model": "symoe", "messages": [{"role": "system", "content": "x"}]},
            400,
            "messages",
            "user message",
        ),
        (
            {"model": "symoe", "messages": [{"role": "tool", "content": "x"}]},
            422,
            "messages.0.role",
            "Input should be",
        ),
        (
            {"model": "symoe", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
            422,
            "messages.0.content",
            "messages.0.content: image input is not supported",
        ),
        ({**chat(symoe={"k": 1}), "model": "e0"}, 400, "symoe", "not to a direct call"),
        ({"messages": chat()["messages"]}, 422, "model", "Field required"),
    ],
)
def test_bad_requests_get_openai_errors(
    client: TestClient,
    user_headers: dict[str, str],
    body: dict[str, Any],
    status: int,
    param: str | None,
    fragment: str,
) -> None:
    for stream in (False, True):  # refused before any stream starts
        response = client.post(URL, json={**body, "stream": stream}, headers=user_headers)
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert fragment in error["message"], error
        if param is not None:
            assert error["param"] == param
        assert set(error) == {"message", "type", "param", "code"} and error["type"]
    assert services_of(client).metrics.queue_depth._value.get() == 0  # none left counted


def test_needs_a_key(client: TestClient) -> None:
    response = client.post(URL, json=chat(), headers={"Authorization": "Bearer sk-nope"})
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


def client_over(tmp_path: Path, disabled: str | None = None, **options: object) -> TestClient:
    """An app over two scripted experts with extra backend options."""
    experts = scripted_experts(2)
    for expert in experts:
        expert["options"] = {**expert["options"], **options}  # type: ignore[dict-item]
        expert["enabled"] = expert["name"] != disabled
    experts_file = tmp_path / "experts.yaml"
    experts_file.write_text(yaml.safe_dump({"experts": experts}))
    settings = Settings(data_dir=tmp_path / "home", experts_file=experts_file, profile_file=None)
    return TestClient(create_app(deployment=ScriptedDeployment(settings)))


@pytest.fixture
def slow_client(tmp_path: Path) -> Iterator[TestClient]:
    """Experts that take a while, so a client can leave while they work."""
    with client_over(tmp_path, delay_s=0.3) as test_client:
        yield test_client


def test_no_answer_is_an_error_before_or_inside_the_stream(tmp_path: Path) -> None:
    with client_over(tmp_path, fail_load=True) as broken:
        key = broken.app.state.services.keys.create("t", "user").key  # type: ignore[attr-defined]
        headers = {"Authorization": f"Bearer {key}"}
        response = broken.post(URL, json=chat(symoe={"k": 2}), headers=headers)
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "experts_failed" and "failed" in error["message"]
        query_id = response.headers["X-Symoe-Query-Id"]
        stored = services_of(broken).deployment.stores.traces.get_trace(query_id)
        assert stored is not None and stored.error is not None  # recorded as failed

        with broken.stream("POST", URL, json=chat(stream=True), headers=headers) as streamed:
            assert streamed.status_code == 200  # the stream had started
            data = events(streamed.read().decode())
        first, last = data[0], data[-1]
        assert isinstance(first, dict) and first["choices"][0]["delta"]["role"] == "assistant"
        assert isinstance(last, dict) and last["error"]["code"] == "experts_failed"
        assert "[DONE]" not in data


@pytest.mark.parametrize("how", ["closed", "cancelled"])
def test_a_client_leaving_mid_stream_leaves_the_batch_whole(
    slow_client: TestClient, how: str
) -> None:
    services = services_of(slow_client)
    serving = services.openai
    request = ChatCompletionRequest(
        model="symoe",
        messages=[ChatMessage(role="user", content=MC)],
        stream=True,
        symoe=AnswerOptions(k=2, aggregation="llm"),
    )
    prepared = serving.prepare(request)
    started: list[Future[ChatOutcome]] = []

    async def leave() -> str:
        feed = TextFeed(asyncio.get_running_loop())
        started.append(serving.submit(prepared, feed))
        stream = serving.stream(prepared, started[0], feed)
        first = await anext(stream)  # the role chunk: the stream has started
        if how == "closed":  # the server closes the generator at a yield
            await stream.aclose()
        else:  # the server cancels the task while it waits for the committee
            waiting = asyncio.ensure_future(anext(stream))
            await asyncio.sleep(0)
            waiting.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await waiting
        return first

    first = asyncio.run(leave())  # its loop is closed afterwards: the feed has no reader
    assert '"role":"assistant"' in first
    report = started[0].result(timeout=120).report  # the batch ran on to its end ...
    stored = services.deployment.stores.traces.get_trace(prepared.query.id)
    assert stored is not None  # ... and was stored whole
    assert [c.stage for c in stored.calls] == ["experts", "experts", "aggregate"]
    assert stored.answer == report.traces[0].answer != ""
    batch = services.deployment.stores.traces.get_batch(report.batch_id)
    assert batch is not None and len(batch.loads) == len(report.loads) > 0
    assert services.metrics.queue_depth._value.get() == 0
