"""/v1/admin: roles, experts (stored and live), profile sets, keys, recruitment statistics."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from orchestrator.api.admin.routes import router as admin_router
from orchestrator.api.admin.service import count_recruitment
from orchestrator.api.app import create_app
from orchestrator.db import Stores
from orchestrator.db.traces import PlanDigest
from orchestrator.settings import Settings
from orchestrator.trace import BatchReport, Recruitment, SkillTagging, Trace
from skills.profiles import ProfileSet, SkillScore

from .conftest import MC, ScriptedDeployment, new_key

Headers = dict[str, str]


def stores_of(client: TestClient) -> Stores:
    stores: Stores = client.app.state.services.deployment.stores  # type: ignore[attr-defined]
    return stores


def answer(client: TestClient, headers: Headers, **options: Any) -> dict[str, Any]:
    body = {"question": MC, "aggregation": "vote", **options}
    response = client.post("/v1/answers", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def new_expert(name: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "backend": "scripted",
        "model": f"scripted/{name}",
        "options": {"default": f"{name} says: the answer is (C)."},
        **fields,
    }


# -- roles ---------------------------------------------------------------------------------


def admin_routes() -> list[tuple[str, str]]:
    return [
        (method, route.path.replace("{name}", "e0").replace("{key_id}", "k"))
        for route in admin_router.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods)
    ]


def test_there_are_admin_routes() -> None:
    assert len(admin_routes()) >= 12


@pytest.mark.parametrize(("method", "path"), admin_routes())
def test_every_admin_route_needs_an_admin_key(
    client: TestClient, user_headers: Headers, method: str, path: str
) -> None:
    missing = client.request(method, path)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_api_key"
    user = client.request(method, path, headers=user_headers)
    assert user.status_code == 403 and user.json()["error"]["code"] == "admin_required"


# -- experts -------------------------------------------------------------------------------


def test_lists_and_shows_experts(client: TestClient, admin_headers: Headers) -> None:
    listed = client.get("/v1/admin/experts", headers=admin_headers).json()
    assert [e["name"] for e in listed] == ["e0", "e1", "e2"]
    one = client.get("/v1/admin/experts/e1", headers=admin_headers).json()
    assert one["backend"] == "scripted" and one["enabled"] is True
    missing = client.get("/v1/admin/experts/nope", headers=admin_headers)
    assert missing.status_code == 404 and "unknown expert 'nope'" in missing.text


def test_a_created_expert_is_stored_and_answers_the_next_request(
    client: TestClient, admin_headers: Headers, user_headers: Headers
) -> None:
    response = client.post("/v1/admin/experts", json=new_expert("fresh"), headers=admin_headers)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "fresh"
    assert "fresh" in [e.name for e in stores_of(client).experts.list_experts()]
    body = answer(client, user_headers, experts=["fresh"], k=2)
    assert body["trace"]["recruitment"]["drawn"] == ["fresh", "fresh"]
    assert body["extracted_answer"] == "C"


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (new_expert("e0"), 409, "already exists"),
        (new_expert("x", backend="magic"), 422, "unknown backend 'magic' (known: "),
        (new_expert("bad name!"), 422, "name"),
        (new_expert("x", n_ctx=1), 422, "n_ctx"),
        (new_expert("x", roles=["boss"]), 422, "roles"),
        (new_expert("x", surprise=1), 422, "surprise"),
        ({"name": "x", "backend": "scripted"}, 422, "model"),
    ],
)
def test_bad_experts_are_refused(
    client: TestClient, admin_headers: Headers, body: dict[str, Any], status: int, fragment: str
) -> None:
    response = client.post("/v1/admin/experts", json=body, headers=admin_headers)
    assert response.status_code == status, response.text
    assert fragment in response.json()["error"]["message"]
    assert [e.name for e in stores_of(client).experts.list_experts()] == ["e0", "e1", "e2"]


def test_an_update_is_stored_and_used_by_the_next_request(
    client: TestClient, admin_headers: Headers, user_headers: Headers
) -> None:
    patch = {"options": {"default": "changed: the answer is (D)."}, "generation": {"seed": 7}}
    response = client.patch("/v1/admin/experts/e1", json=patch, headers=admin_headers)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["generation"]["seed"] == 7
    assert updated["generation"]["max_tokens"] == 128  # the other keys are kept
    stored = {e.name: e for e in stores_of(client).experts.list_experts()}["e1"]
    assert stored.options["default"] == "changed: the answer is (D)."
    body = answer(client, user_headers, experts=["e1"], k=1)
    assert body["extracted_answer"] == "D"


@pytest.mark.parametrize(
    ("patch", "status", "fragment"),
    [
        ({"backend": "magic"}, 422, "unknown backend 'magic' (known: "),
        ({"n_ctx": 1}, 422, "n_ctx"),
        ({"generation": {"temperature": 9}}, 422, "generation.temperature"),
        ({"model": None}, 422, "model"),
        ({"name": "renamed"}, 422, "name"),
    ],
)
def test_bad_updates_are_refused_and_change_nothing(
    client: TestClient, admin_headers: Headers, patch: dict[str, Any], status: int, fragment: str
) -> None:
    before = client.get("/v1/admin/experts/e0", headers=admin_headers).json()
    response = client.patch("/v1/admin/experts/e0", json=patch, headers=admin_headers)
    assert response.status_code == status, response.text
    assert fragment in response.json()["error"]["message"]
    assert client.get("/v1/admin/experts/e0", headers=admin_headers).json() == before


def test_updating_an_unknown_expert_is_404(client: TestClient, admin_headers: Headers) -> None:
    response = client.patch("/v1/admin/experts/nope", json={"n_ctx": 128}, headers=admin_headers)
    assert response.status_code == 404 and "unknown expert 'nope'" in response.text


def test_secret_options_are_hidden_and_kept(client: TestClient, admin_headers: Headers) -> None:
    body = new_expert("remote", options={"api_key": "sk-secret", "default": "(A)"})
    created = client.post("/v1/admin/experts", json=body, headers=admin_headers).json()
    assert created["options"] == {"api_key": "***", "default": "(A)"}
    echoed = client.patch(
        "/v1/admin/experts/remote", json={"options": created["options"]}, headers=admin_headers
    )
    assert echoed.status_code == 200
    stored = {e.name: e for e in stores_of(client).experts.list_experts()}["remote"]
    assert stored.options["api_key"] == "sk-secret"
    removed = client.patch(
        "/v1/admin/experts/remote", json={"options": {"api_key": None}}, headers=admin_headers
    )
    assert removed.json()["options"] == {"default": "(A)"}


def test_a_disabled_expert_is_never_drawn(
    client: TestClient, admin_headers: Headers, user_headers: Headers
) -> None:
    for name in ("e0", "e2"):
        response = client.post(f"/v1/admin/experts/{name}/disable", headers=admin_headers)
        assert response.status_code == 200 and response.json()["enabled"] is False
    for i in range(10):
        question = f"{MC} (variant {i})"
        body = client.post(
            "/v1/answers",
            json={"question": question, "k": 3, "aggregation": "vote"},
            headers=user_headers,
        ).json()
        assert body["trace"]["recruitment"]["drawn"] == ["e1", "e1", "e1"]
    assert {e.name: e.enabled for e in stores_of(client).experts.list_experts()} == {
        "e0": False,
        "e1": True,
        "e2": False,
    }
    enabled = client.post("/v1/admin/experts/e0/enable", headers=admin_headers)
    assert enabled.json()["enabled"] is True
    drawn = answer(client, user_headers, k=8, question="again?")["trace"]["recruitment"]["drawn"]
    assert set(drawn) == {"e0", "e1"}
    assert client.post("/v1/admin/experts/nope/disable", headers=admin_headers).status_code == 404


def test_changes_survive_a_restart(api_settings: Settings) -> None:
    with TestClient(create_app(deployment=ScriptedDeployment(api_settings))) as client:
        headers = {"Authorization": f"Bearer {new_key(client, 'admin')}"}
        client.post("/v1/admin/experts/e0/disable", headers=headers)
        client.post("/v1/admin/experts", json=new_expert("fresh"), headers=headers)
        client.patch("/v1/admin/experts/e1", json={"n_ctx": 4096}, headers=headers)
    with TestClient(create_app(deployment=ScriptedDeployment(api_settings))) as client:
        headers = {"Authorization": f"Bearer {new_key(client, 'admin')}"}
        experts = {e["name"]: e for e in client.get("/v1/admin/experts", headers=headers).json()}
        assert experts["e0"]["enabled"] is False
        assert "fresh" in experts
        assert experts["e1"]["n_ctx"] == 2048  # experts.yaml wins for what it declares


# -- profile sets --------------------------------------------------------------------------


def only_e1(version_note: str) -> ProfileSet:
    return ProfileSet(
        name="only-e1",
        command=version_note,
        experts={"e1": {"logic": SkillScore(score=3, count=4)}},
    )


def test_profile_sets_list_show_and_activate(
    client: TestClient, admin_headers: Headers, user_headers: Headers
) -> None:
    profile_sets = stores_of(client).profile_sets
    profile_sets.save_profile_set(only_e1("first"))
    profile_sets.save_profile_set(only_e1("second"))
    listed = client.get("/v1/admin/profile-sets", headers=admin_headers).json()
    assert [(p["name"], p["version"], p["active"]) for p in listed] == [
        ("only-e1", 1, False),
        ("only-e1", 2, False),
    ]
    newest = client.get("/v1/admin/profile-sets/only-e1", headers=admin_headers).json()
    assert newest["version"] == 2 and newest["command"] == "second"
    first = client.get("/v1/admin/profile-sets/only-e1?version=1", headers=admin_headers).json()
    assert first["command"] == "first" and first["experts"]["e1"]["logic"]["score"] == 3
    assert answer(client, user_headers)["trace"]["recruitment"]["profile_set"] is None

    activated = client.post(
        "/v1/admin/profile-sets/only-e1/activate?version=1", headers=admin_headers
    )
    assert activated.status_code == 200, activated.text
    assert activated.json()["version"] == 1 and activated.json()["active"] is True
    recruitment = answer(client, user_headers, k=3)["trace"]["recruitment"]
    assert recruitment["profile_set"] == "only-e1@v1"
    assert recruitment["drawn"] == ["e1", "e1", "e1"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/admin/profile-sets/nope", 404),
        ("GET", "/v1/admin/profile-sets/nope?version=3", 404),
        ("GET", "/v1/admin/profile-sets/nope?version=0", 422),
        ("GET", "/v1/admin/profile-sets/nope?version=x", 422),
        ("GET", "/v1/admin/profile-sets/nope?version=99999999999999999999", 422),
        ("POST", "/v1/admin/profile-sets/nope/activate", 404),
        ("POST", "/v1/admin/profile-sets/nope/activate?version=2", 404),
        ("POST", "/v1/admin/profile-sets/nope/activate?version=-1", 422),
    ],
)
def test_unknown_profile_sets(
    client: TestClient, admin_headers: Headers, method: str, path: str, status: int
) -> None:
    response = client.request(method, path, headers=admin_headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["type"]


# -- keys ----------------------------------------------------------------------------------


def test_keys_create_list_revoke(client: TestClient, admin_headers: Headers) -> None:
    created = client.post(
        "/v1/admin/keys", json={"name": "ci", "role": "user"}, headers=admin_headers
    )
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["key"].startswith("sk-symoe-") and key["role"] == "user"
    user = {"Authorization": f"Bearer {key['key']}"}
    assert client.get("/readyz", headers=user).status_code == 200
    listed = client.get("/v1/admin/keys", headers=admin_headers).json()
    assert key["id"] in [k["id"] for k in listed]
    assert all("key" not in k for k in listed)
    revoked = client.post(f"/v1/admin/keys/{key['id']}/revoke", headers=admin_headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert client.get("/readyz", headers=user).status_code == 401


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "x", "role": "root"}, "role"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "a key needs a name"),
        ({"role": "user"}, "name"),
    ],
)
def test_bad_key_requests(
    client: TestClient, admin_headers: Headers, body: dict[str, Any], fragment: str
) -> None:
    response = client.post("/v1/admin/keys", json=body, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert fragment in response.json()["error"]["message"]


def test_revoking_an_unknown_key_is_404(client: TestClient, admin_headers: Headers) -> None:
    response = client.post("/v1/admin/keys/nope/revoke", headers=admin_headers)
    assert response.status_code == 404 and "no API key with id 'nope'" in response.text


# -- recruitment statistics ----------------------------------------------------------------


def test_recruitment_statistics_from_stored_traces(
    client: TestClient, admin_headers: Headers, user_headers: Headers
) -> None:
    broken = new_expert("broken", options={"fail_load": True})
    assert client.post("/v1/admin/experts", json=broken, headers=admin_headers).status_code == 201
    for i in range(4):
        answer(client, user_headers, question=f"{MC} #{i}", k=2, experts=["broken", "e0"])
    answer(client, user_headers, k=1, experts=["e1"], aggregation="llm", aggregator="e2")
    # the aggregator fails, a vote answers: counted from the stored event, not from a note
    answer(client, user_headers, k=1, experts=["e1"], aggregation="llm", aggregator="broken")
    response = client.get("/v1/admin/stats/recruitment", headers=admin_headers)
    assert response.status_code == 200, response.text
    stats = response.json()
    assert stats["queries"] == 6
    by_name = {e["name"]: e for e in stats["experts"]}
    assert set(by_name) == {"e0", "e1", "e2", "broken"}  # the idle e2 included
    assert by_name["broken"]["drawn"] + by_name["e0"]["drawn"] == 8
    assert by_name["broken"]["errors"] == by_name["broken"]["drawn"] > 0
    assert by_name["e0"]["errors"] == 0
    assert by_name["e0"]["replacements"] == by_name["broken"]["drawn"]  # replace_failed
    assert by_name["e0"]["candidate"] == 4 and by_name["e0"]["mean_weight"] == 0.5
    assert by_name["e1"]["drawn"] == 2 and by_name["e2"]["aggregator"] == 1
    assert by_name["e2"]["aggregator_errors"] == 0
    assert (by_name["broken"]["aggregator"], by_name["broken"]["aggregator_errors"]) == (1, 1)
    assert by_name["e2"]["drawn"] == 0 and by_name["e2"]["mean_weight"] is None
    assert sum(e["draw_share"] for e in stats["experts"]) == pytest.approx(1.0)
    limited = client.get("/v1/admin/stats/recruitment?limit=1", headers=admin_headers).json()
    assert limited["queries"] == 1
    future = client.get(
        "/v1/admin/stats/recruitment",
        params={"since": "2999-01-01T00:00:00+02:00"},
        headers=admin_headers,
    ).json()
    assert future["queries"] == 0 and future["since"].startswith("2998-12-31T22:00")


def test_skills_are_counted_once_per_query(client: TestClient, admin_headers: Headers) -> None:
    traces = [
        Trace(
            query_id=f"q{i}",
            question="?",
            tagging=SkillTagging(method="fixed", skills=skills),
            recruitment=Recruitment(recruiter="symbolic", profile_set=None, drawn=["e0"]),
        )
        for i, skills in enumerate([["algebra", "logic"], ["algebra", "algebra"], []])
    ]
    stores_of(client).traces.save_batch(BatchReport(batch_id="b", traces=traces))
    stats = client.get("/v1/admin/stats/recruitment", headers=admin_headers).json()
    assert stats["skills"] == [
        {"skill": "algebra", "queries": 2, "share": pytest.approx(2 / 3)},
        {"skill": "logic", "queries": 1, "share": pytest.approx(1 / 3)},
    ]
    assert {e["name"]: e["errors"] for e in stats["experts"]}["e0"] == 3  # no call stored


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=x", "since=yesterday", "since=0001-01-01T00:00:00%2B05:00"],
)
def test_bad_statistics_queries(client: TestClient, admin_headers: Headers, query: str) -> None:
    response = client.get(f"/v1/admin/stats/recruitment?{query}", headers=admin_headers)
    assert response.status_code == 422, response.text


def test_counting_repeats_and_failed_aggregations() -> None:
    digests = [
        PlanDigest(
            skills=["a"],
            drawn=["x", "x", "y"],
            aggregator="z",
            weights={"x": 0.75, "y": 0.25},
            aggregator_failed=True,
            answered=[(0, "x"), (1, "y"), (2, "y")],
        )
    ]
    stats = count_recruitment(digests, ["y"], None, 10)
    by_name = {e.name: e for e in stats.experts}
    assert [e.name for e in stats.experts] == ["x", "y", "z"]
    assert (by_name["x"].drawn, by_name["x"].queries, by_name["x"].errors) == (2, 1, 1)
    assert (by_name["y"].drawn, by_name["y"].replacements) == (1, 1)
    assert by_name["x"].draw_share == pytest.approx(2 / 3)
    assert (by_name["z"].aggregator, by_name["z"].aggregator_errors) == (1, 1)
