"""/v1/admin/documents over the real all-MiniLM-L6-v2: documents added as JSON are chunked,
embedded and stored (one transaction each), unchanged ones skipped, changed ones replaced;
removal, listing and search; bad input; admin keys only; and a retrieving /v1/answers
request reads what the API stored. SQLite, and the main flow on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator.api.app import create_app
from tests.minilm import minilm_or_skip

from .conftest import DATABASES, ScriptedDeployment, database, new_key, scripted_settings

pytestmark = pytest.mark.embeddings

Headers = dict[str, str]
ZORBLAT = "The Zorblat festival is held in the town of Quenby every March."
TEA = "Green tea is made from the leaves of Camellia sinensis, steamed or pan-fired."
URL = "/v1/admin/documents"


@pytest.fixture(autouse=True)
def _minilm() -> None:
    minilm_or_skip()  # the app's own embedder reads the same installed weights


def headers_of(client: TestClient, role: str) -> Headers:
    return {"Authorization": f"Bearer {new_key(client, role)}"}


def add(client: TestClient, headers: Headers, *docs: dict[str, Any]) -> dict[str, Any]:
    response = client.post(URL, json=list(docs), headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def outcomes(result: dict[str, Any]) -> list[str]:
    return [d["outcome"] for d in result["documents"]]


def search(client: TestClient, headers: Headers, q: str, k: int = 5) -> list[dict[str, Any]]:
    response = client.get(f"{URL}/search", params={"q": q, "k": k}, headers=headers)
    assert response.status_code == 200, response.text
    hits: list[dict[str, Any]] = response.json()
    return hits


def check_the_whole_flow(client: TestClient, admin: Headers) -> None:
    assert client.get(URL, headers=admin).json() == []
    assert search(client, admin, "Zorblat") == []  # an empty store: no hits, no error

    first = add(
        client,
        admin,
        {"source": "festivals", "text": ZORBLAT, "metadata": {"lang": "en"}},
        {"source": "tea", "text": TEA},
    )
    assert outcomes(first) == ["added", "added"]
    assert first["counts"] == {"added": 2, "replaced": 0, "unchanged": 0, "failed": 0}
    assert all(d["chunks"] >= 1 for d in first["documents"])
    listed = {d["source"]: d for d in client.get(URL, headers=admin).json()}
    assert set(listed) == {"festivals", "tea"}
    assert listed["festivals"]["metadata"] == {"lang": "en"} and listed["tea"]["n_chunks"] >= 1

    hits = search(client, admin, "Where is the Zorblat festival held?", k=1)
    assert len(hits) == 1
    (hit,) = hits
    assert (hit["source"], hit["rank"], hit["text"]) == ("festivals", 1, ZORBLAT)
    assert hit["chunk_id"] >= 1 and hit["position"] == 0 and hit["score"] > 0
    assert search(client, admin, "green tea leaves")[0]["source"] == "tea"

    again = add(
        client,
        admin,
        {"source": "tea", "text": TEA},
        {"source": "festivals", "text": ZORBLAT + " It has a parade."},
    )
    assert outcomes(again) == ["unchanged", "replaced"]
    assert again["documents"][0]["chunks"] == 0
    assert "parade" in search(client, admin, "Zorblat parade", k=1)[0]["text"]

    removed = client.delete(URL, params={"source": "tea"}, headers=admin)
    assert removed.status_code == 200 and removed.json()["source"] == "tea"
    assert {h["source"] for h in search(client, admin, "green tea leaves")} <= {"festivals"}
    missing = client.delete(URL, params={"source": "tea"}, headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_document"
    assert [d["source"] for d in client.get(URL, headers=admin).json()] == ["festivals"]


def test_add_list_search_replace_and_remove(client: TestClient, admin_headers: Headers) -> None:
    check_the_whole_flow(client, admin_headers)


@pytest.mark.parametrize("kind", [p for p in DATABASES if p != "sqlite"])
def test_the_same_on_postgresql(kind: str, tmp_path: Path) -> None:
    with database(kind) as url:
        settings = scripted_settings(tmp_path, database_url=url)
        with TestClient(create_app(deployment=ScriptedDeployment(settings))) as client:
            check_the_whole_flow(client, headers_of(client, "admin"))


def test_a_user_key_gets_403_and_no_key_401(client: TestClient, user_headers: Headers) -> None:
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", URL, {}),
        ("POST", URL, {"json": [{"source": "a", "text": "b"}]}),
        ("DELETE", URL, {"params": {"source": "a"}}),
        ("GET", f"{URL}/search", {"params": {"q": "a"}}),
    ]
    for method, url, kwargs in requests:
        refused = client.request(method, url, headers=user_headers, **kwargs)
        assert refused.status_code == 403, (method, url, refused.text)
        assert refused.json()["error"]["code"] == "admin_required"
        assert client.request(method, url, **kwargs).status_code == 401
    assert client.app.state.services.deployment.stores.documents.list() == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ([], 422, None),
        ({"source": "a", "text": "b"}, 422, None),  # an object, not a list
        ([{"source": "a"}], 422, "0.text"),
        ([{"source": "", "text": "b"}], 422, "0.source"),
        ([{"source": "a", "text": ""}], 422, "0.text"),
        ([{"source": "a", "text": "b", "extra": 1}], 422, "0.extra"),
        ([{"source": "a", "text": "b\u0000c"}], 400, "0.text"),
        ([{"source": "a", "text": "b", "metadata": {"x": "\u0000"}}], 400, "0.metadata.x"),
        ([{"source": f"s{i}", "text": "t"} for i in range(1001)], 422, None),
    ],
)
def test_bad_documents_are_refused_and_nothing_is_stored(
    client: TestClient, admin_headers: Headers, body: Any, status: int, param: str | None
) -> None:
    response = client.post(URL, json=body, headers=admin_headers)
    assert response.status_code == status, response.text
    if param is not None:
        assert response.json()["error"]["param"] == param
    assert client.get(URL, headers=admin_headers).json() == []


def test_a_body_over_the_size_limit_is_413(client: TestClient, admin_headers: Headers) -> None:
    body = [{"source": "big", "text": "word " * 300_000}]  # 1.5 MB over the 1 MB default
    assert client.post(URL, json=body, headers=admin_headers).status_code == 413
    assert client.get(URL, headers=admin_headers).json() == []


def test_a_text_without_tokens_fails_alone(client: TestClient, admin_headers: Headers) -> None:
    result = add(
        client, admin_headers, {"source": "blank", "text": " \n\t "}, {"source": "tea", "text": TEA}
    )
    assert outcomes(result) == ["failed", "added"]
    assert result["documents"][0]["message"] == "empty (no tokens)"
    assert [d["source"] for d in client.get(URL, headers=admin_headers).json()] == ["tea"]


def test_bad_search_parameters_are_422(client: TestClient, admin_headers: Headers) -> None:
    queries: list[dict[str, str | int]] = [{}, {"q": ""}, {"q": "a", "k": 0}, {"q": "a", "k": 101}]
    for params in queries:
        response = client.get(f"{URL}/search", params=params, headers=admin_headers)
        assert response.status_code == 422, (params, response.text)
    assert client.delete(URL, headers=admin_headers).status_code == 422  # no source


def test_a_retrieving_answer_reads_the_documents_the_api_stored(
    client: TestClient, admin_headers: Headers, user_headers: Headers
) -> None:
    add(
        client,
        admin_headers,
        {"source": "festivals", "text": ZORBLAT},
        {"source": "tea", "text": TEA},
    )
    body = {"question": "Where is the Zorblat festival held?", "aggregation": "vote"}
    response = client.post(
        "/v1/answers", json={**body, "retrieval": "always"}, headers=user_headers
    )
    assert response.status_code == 200, response.text
    retrieval = response.json()["trace"]["retrieval"]
    assert retrieval["retrieve"] is True
    assert retrieval["passages"][0]["source"] == "festivals"
    assert [p["number"] for p in retrieval["passages"]] == list(
        range(1, len(retrieval["passages"]) + 1)
    )
    never = client.post("/v1/answers", json={**body, "retrieval": "never"}, headers=user_headers)
    assert never.json()["trace"]["retrieval"]["passages"] == []
