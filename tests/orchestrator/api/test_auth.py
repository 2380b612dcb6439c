"""Keys: missing, wrong, revoked, role checks, rate limit; health needs none."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from orchestrator.api.app import create_app
from orchestrator.db import KeyStore, make_engine, session_factory
from orchestrator.settings import Settings

from .conftest import MC, ScriptedDeployment, new_key


def test_every_endpoint_but_health_needs_a_valid_key(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    missing = client.post("/v1/answers", json={"question": MC})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "missing_api_key"
    wrong = client.post(
        "/v1/answers", json={"question": MC}, headers={"Authorization": "Bearer sk-symoe-x-y"}
    )
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    assert client.get("/readyz").status_code == 401
    assert client.get("/metrics").status_code == 401


def test_a_revoked_key_is_refused_at_once(client: TestClient) -> None:
    keys = client.app.state.services.keys  # type: ignore[attr-defined]
    created = keys.create("soon-revoked", "user")
    headers = {"X-API-Key": created.key}
    assert client.get("/readyz", headers=headers).status_code == 200
    keys.revoke(created.id)
    response = client.get("/readyz", headers=headers)
    assert response.status_code == 401 and "revoked" in response.json()["error"]["message"]


def test_a_key_revoked_by_another_process_is_refused_at_once(
    client: TestClient, api_settings: Settings
) -> None:
    """`symoe keys revoke` runs in its own process with its own KeyStore; the server used to
    accept the key for up to 5 s from its cache."""
    headers = {"X-API-Key": new_key(client, "user")}
    assert client.get("/readyz", headers=headers).status_code == 200
    engine = make_engine(api_settings.db_url)
    try:
        cli_keys = KeyStore(session_factory(engine))
        (info,) = [k for k in cli_keys.list() if k.revoked_at is None and k.role == "user"]
        cli_keys.revoke(info.id)
    finally:
        engine.dispose()
    response = client.get("/readyz", headers=headers)
    assert response.status_code == 401 and "revoked" in response.json()["error"]["message"]


def test_keys_are_stored_hashed(client: TestClient) -> None:
    key = new_key(client, "user")
    stores = client.app.state.services.deployment.stores  # type: ignore[attr-defined]
    with stores.sessions() as session:
        dumped = str([tuple(r) for r in session.execute(text("SELECT * FROM api_keys"))])
    secret = key.split("-", 3)[3]  # sk-symoe-<id>-<secret>; the secret may hold a "-" itself
    assert key not in dumped and secret not in dumped


def test_the_rate_limit_answers_429_with_the_wait(api_settings: Settings) -> None:
    settings = api_settings.model_copy(update={"api_rate_limit_per_minute": 3})
    with TestClient(create_app(deployment=ScriptedDeployment(settings))) as client:
        headers = {"Authorization": f"Bearer {new_key(client, 'user')}"}
        codes = [client.get("/readyz", headers=headers).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.get("/readyz", headers=headers)
        error = refused.json()["error"]
        assert error["type"] == "rate_limit_error" and "retry in" in error["message"]
        # whole seconds, as RFC 9110 has it; 3 per minute: about 20 s until the next token
        assert 1 <= int(refused.headers["Retry-After"]) <= 20
        other = {"Authorization": f"Bearer {new_key(client, 'user')}"}
        assert client.get("/readyz", headers=other).status_code == 200  # per key
