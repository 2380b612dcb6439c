"""The API allows the names the registries hold: the OpenAPI schema shows them, and any
other is a 422 that names them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from orchestrator.aggregators import AGGREGATORS
from orchestrator.api.app import create_app
from orchestrator.retrieval import GATES
from orchestrator.settings import Settings

from .conftest import MC


def test_the_openapi_schema_offers_the_registered_aggregations() -> None:
    components = create_app(Settings()).openapi()["components"]["schemas"]
    # the options a request takes: answers, jobs, and a chat completion's `symoe` field
    for name in ("AnswerOptions", "AnswerRequest", "JobRequest"):
        field: dict[str, Any] = components[name]["properties"]["aggregation"]
        assert {"type": "string", "enum": AGGREGATORS.names()} in field["anyOf"], name
        assert {"type": "null"} in field["anyOf"]


def test_an_unregistered_aggregation_is_a_422_naming_the_registered_ones(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    body = {"question": MC, "aggregation": "magic"}
    response = client.post("/v1/answers", json=body, headers=user_headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    known = ", ".join(AGGREGATORS.names())
    assert error["message"] == f"aggregation: unknown aggregation 'magic' (known: {known})"
    assert error["param"] == "aggregation"


def test_the_retrieval_choices_come_from_the_gate_registry(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    components = create_app(Settings()).openapi()["components"]["schemas"]
    field: dict[str, Any] = components["AnswerRequest"]["properties"]["retrieval"]
    assert {"type": "string", "enum": ["auto", *GATES.names()]} in field["anyOf"]
    body = {"question": MC, "retrieval": "sometimes", "aggregation": "vote"}
    response = client.post("/v1/answers", json=body, headers=user_headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (
        error["message"] == "retrieval: unknown retrieval 'sometimes' "
        "(known: auto, never, always, skr_knn, expert_rag)"
    )
    for choice, gate in (("never", "never"), ("auto", "never"), ("always", "always")):
        ok = client.post("/v1/answers", json={**body, "retrieval": choice}, headers=user_headers)
        assert ok.status_code == 200, ok.text
        decision = ok.json()["trace"]["retrieval"]
        assert (decision["gate"], decision["retrieve"]) == (gate, False)
        assert decision["passages"] == []
    # `always` with nothing ingested: answered from the experts, and it says why
    assert decision["reasons"][-1] == "the document store is empty: answered without retrieval"
