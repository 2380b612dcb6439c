"""/admin/keys: create (the secret shown once), list with this minute's use, revoke (the key
stops working at once)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.orchestrator.api.conftest import new_key
from tests.orchestrator.api.dashboard.support import log_in


def test_a_created_key_is_shown_once_and_revoking_it_stops_it(client: TestClient) -> None:
    token = log_in(client, new_key(client, "admin"))
    made = client.post("/admin/keys", data={"csrf_token": token, "name": "ci", "role": "user"})
    assert made.status_code == 201
    secret = re.search(r'<code id="new-key">([^<]+)</code>', made.text)
    assert secret is not None
    key = secret.group(1)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/models", headers=headers).status_code == 200
    listing = client.get("/admin/keys").text
    assert "ci" in listing and key not in listing  # never shown again
    assert "requests this minute" in listing

    key_id = next(k.id for k in client.app.state.services.keys.list() if k.name == "ci")  # type: ignore[attr-defined]
    revoked = client.post(f"/admin/keys/{key_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 200 and "revoked ci" in revoked.text
    assert client.get("/v1/models", headers=headers).status_code == 401
    missing = client.post("/admin/keys/nope/revoke", data={"csrf_token": token})
    assert missing.status_code == 404 and "no API key" in missing.text
    blank = client.post("/admin/keys", data={"csrf_token": token, "name": " ", "role": "user"})
    assert blank.status_code == 400 and "name" in blank.text
    odd = client.post("/admin/keys", data={"csrf_token": token, "name": "x", "role": "root"})
    assert odd.status_code == 400 and "role" in odd.text
