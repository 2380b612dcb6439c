"""/readyz checks and /metrics counts."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .conftest import MC


def test_ready_when_database_and_experts_are_usable(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    response = client.get("/readyz", headers=user_headers)
    assert response.status_code == 200
    assert response.json() == {"ready": True, "checks": {"database": "ok", "experts": "ok"}}


def test_metrics_count_requests_tokens_and_loads(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    client.post("/v1/answers", json={"question": MC, "k": 2}, headers=user_headers)
    text = client.get("/metrics", headers=user_headers).text
    assert 'symoe_http_requests_total{method="POST",route="/v1/answers",status="200"} 1.0' in text
    assert "symoe_model_loads_total{expert=" in text
    assert 'symoe_tokens_total{kind="completion"}' in text
    assert "symoe_queue_depth 0.0" in text
