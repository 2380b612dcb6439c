"""create_app: the schema and docs pages public or behind a key (`api_public_docs`), and
the error shape's headers (405 with `Allow`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orchestrator.api.app import create_app

from .conftest import ScriptedDeployment, new_key, scripted_settings

DOCS = ("/openapi.json", "/docs", "/redoc")


@pytest.mark.parametrize(
    ("runner", "public_docs", "public"),
    [
        ("inprocess", None, True),  # the embedded default, on 127.0.0.1
        ("celery", None, False),  # distributed: keyed unless asked for
        ("celery", True, True),
        ("inprocess", False, False),
    ],
)
def test_docs_are_public_only_when_the_setting_says_so(
    tmp_path: Path, runner: str, public_docs: bool | None, public: bool
) -> None:
    settings = scripted_settings(tmp_path, runner=runner, api_public_docs=public_docs)
    with TestClient(create_app(deployment=ScriptedDeployment(settings))) as client:
        anonymous = [client.get(path).status_code for path in DOCS]
        if public:
            assert anonymous == [200, 200, 200]
            return
        # without a key: the schema is a 401 and the pages (which cannot send one) are off
        assert anonymous == [401, 404, 404]
        headers = {"Authorization": f"Bearer {new_key(client, 'user')}"}
        keyed = client.get("/openapi.json", headers=headers)
        assert keyed.status_code == 200 and "/v1/answers" in keyed.json()["paths"]
        assert "/openapi.json" not in keyed.json()["paths"]


def test_a_wrong_method_gets_405_with_allow(tmp_path: Path) -> None:
    settings = scripted_settings(tmp_path)
    with TestClient(create_app(deployment=ScriptedDeployment(settings))) as client:
        response = client.put("/v1/answers")
        assert response.status_code == 405
        assert response.headers["Allow"] == "POST"
        error = response.json()["error"]
        assert error["message"] == "method PUT not allowed; this path takes POST"
        assert error["type"] == "invalid_request_error"
        # two routes on one path: both methods (Starlette's own Allow named only the first)
        both = client.put("/v1/jobs/abc")
        assert both.headers["Allow"] == "DELETE, GET"
