"""POST /v1/answers: the answer and its trace, budgets, and every kind of bad input."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from .conftest import MC


def test_answers_a_question_with_its_trace_and_stores_it(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    response = client.post(
        "/v1/answers",
        json={"question": MC, "k": 2, "aggregation": "vote"},
        headers=user_headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["extracted_answer"] == "B" and body["error"] is None
    trace = body["trace"]
    assert len(trace["recruitment"]["drawn"]) == 2
    assert [c["stage"] for c in trace["calls"]] == ["experts", "experts"]
    store = client.app.state.services.deployment.stores.traces  # type: ignore[attr-defined]
    assert store.get_trace(trace["query_id"]) is not None


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"question": ""}, 422, "question"),
        ({"question": "   "}, 422, "must not be blank"),
        ({"question": 5}, 422, "question"),
        ({}, 422, "question"),
        ({"question": MC, "k": 0}, 422, "k"),
        # one check against the server's budget says the real limit, however large k is
        ({"question": MC, "k": 9}, 400, "k=9 exceeds the budget of 8 experts per request"),
        ({"question": MC, "k": 100}, 400, "k=100 exceeds the budget of 8 experts"),
        ({"question": MC, "k": 2**70}, 400, f"k={2**70} exceeds the budget of 8 experts"),
        ({"question": MC, "max_experts": 65}, 400, "max_experts=65 exceeds the budget of 8"),
        ({"question": MC, "k": 3, "max_experts": 2}, 400, "budget of 2 experts"),
        ({"question": MC, "max_tokens": 100_000}, 400, "max_tokens"),
        ({"question": MC, "experts": ["nope"]}, 404, "unknown expert 'nope'"),
        ({"question": MC, "aggregator": "nope"}, 404, "unknown expert 'nope'"),
        ({"question": MC, "aggregation": "magic"}, 422, "aggregation"),
        ({"question": MC, "surprise": 1}, 422, "surprise"),
    ],
)
def test_bad_input_gets_a_4xx_in_the_error_shape(
    client: TestClient, user_headers: dict[str, str], body: object, status: int, fragment: str
) -> None:
    response = client.post("/v1/answers", json=body, headers=user_headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert fragment in error["message"] and error["type"]


def test_malformed_json_and_oversized_bodies(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    headers = {**user_headers, "Content-Type": "application/json"}
    response = client.post("/v1/answers", content=b"{not json", headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "the request body is not valid JSON"
    huge = b'{"question": "' + b"x" * 1_100_000 + b'"}'
    response = client.post("/v1/answers", content=huge, headers=headers)
    assert (
        response.status_code == 413 and "exceeds the limit" in response.json()["error"]["message"]
    )


def test_a_chunked_body_over_the_limit_is_cut_off_with_413(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
        yield b'{"question": "'
        for _ in range(20):
            yield b"x" * 100_000
        yield b'"}'

    headers = {**user_headers, "Content-Type": "application/json"}
    response = client.post("/v1/answers", content=chunks(), headers=headers)
    assert response.status_code == 413
    assert "exceeds the limit of 1000000 bytes" in response.json()["error"]["message"]


def test_a_form_encoded_body_is_told_to_send_json(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    # what `curl -d '{...}'` sends without -H "Content-Type: application/json"
    headers = {**user_headers, "Content-Type": "application/x-www-form-urlencoded"}
    response = client.post("/v1/answers", content=b'{"question": "hi"}', headers=headers)
    assert response.status_code == 422
    assert "Content-Type: application/json" in response.json()["error"]["message"]
