"""/readyz checks and /metrics counts."""

from __future__ import annotations

from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from orchestrator.api.app import create_app
from orchestrator.settings import Settings

from .conftest import MC, ScriptedDeployment, new_key


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


def test_not_ready_when_no_expert_can_load(api_settings: Settings, tmp_path: Path) -> None:
    experts_file = tmp_path / "missing-model.yaml"
    experts_file.write_text(
        yaml.safe_dump(
            {
                "experts": [
                    {
                        "name": "gone",
                        "backend": "llamacpp",
                        "model": str(tmp_path / "no-such-model.gguf"),
                        "roles": ["expert", "aggregator"],
                    }
                ]
            }
        )
    )
    settings = api_settings.model_copy(update={"experts_file": experts_file})
    with TestClient(create_app(deployment=ScriptedDeployment(settings))) as client:
        response = client.get("/readyz", headers={"X-API-Key": new_key(client, "user")})
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False and body["checks"]["database"] == "ok"
    assert "gone: model file" in body["checks"]["experts"]
    assert "no-such-model.gguf not found" in body["checks"]["experts"]
