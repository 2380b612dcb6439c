"""Who may use /admin: only a session of an active admin key. Every dashboard route (listed
from the app itself, so a new page cannot be forgotten) refuses anonymous visitors, sessions
of user keys and sessions whose key was revoked; every state-changing request needs the
session's CSRF token; the cookie is HttpOnly and SameSite=Strict."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from orchestrator.api.dashboard.session import COOKIE, SessionCodec, new_session
from tests.orchestrator.api.conftest import new_key
from tests.orchestrator.api.dashboard.support import csrf_of, log_in

OPEN = {"/admin/login"}  # the only page a visitor may see before logging in


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, inside included routers too (FastAPI keeps those as one entry)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += api_routes(route.original_router.routes)
    return found


def dashboard_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path with sample parameters) of every dashboard route."""
    found = []
    for route in api_routes(client.app.routes):  # type: ignore[attr-defined]
        if route.path.startswith("/admin"):
            path = re.sub(r"\{[^}]+\}", "e0", route.path)
            found += [(m, path) for m in sorted(route.methods) if route.path not in OPEN]
    return found


def test_the_route_list_covers_the_pages_and_actions(client: TestClient) -> None:
    routes = dashboard_routes(client)
    assert ("GET", "/admin") in routes and ("POST", "/admin/keys/e0/revoke") in routes
    assert len(routes) >= 9


def test_anonymous_visitors_go_to_the_login_page_and_actions_are_refused(
    client: TestClient,
) -> None:
    for method, path in dashboard_routes(client):
        response = client.request(method, path, follow_redirects=False)
        if method == "GET":
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/admin/login?next="), path
        else:
            assert response.status_code == 401, (method, path)
            assert "log in" in response.text


def test_a_bearer_key_is_not_a_dashboard_session(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {new_key(client, 'admin')}"}
    for method, path in dashboard_routes(client):
        response = client.request(method, path, headers=headers, follow_redirects=False)
        assert response.status_code in (303, 401), (method, path)


def test_user_keys_cannot_log_in_nor_use_a_forged_session(client: TestClient) -> None:
    page = client.get("/admin/login")
    refused = client.post(
        "/admin/login", data={"key": new_key(client, "user"), "csrf_token": csrf_of(page.text)}
    )
    assert refused.status_code == 403 and "needs an admin key" in refused.text
    wrong = client.post("/admin/login", data={"key": "nope", "csrf_token": csrf_of(page.text)})
    assert wrong.status_code == 401 and "unknown or revoked key" in wrong.text

    # a signed session of a user key (as if the secret leaked): still refused everywhere
    services = client.app.state.services  # type: ignore[attr-defined]
    user = services.keys.create("u2", "user")
    codec: SessionCodec = client.app.state.dashboard_sessions  # type: ignore[attr-defined]
    session = new_session(key_id=user.id)
    client.cookies.clear()  # only the forged session: not also the login page's
    client.cookies.set(COOKIE, codec.dumps(session), path="/admin")
    for method, path in dashboard_routes(client):
        response = client.request(
            method, path, data={"csrf_token": session.csrf}, follow_redirects=False
        )
        assert response.status_code == 403, (method, path)
        assert "needs an admin key" in response.text


def test_a_tampered_cookie_is_no_session(client: TestClient) -> None:
    log_in(client, new_key(client, "admin"))
    value = client.cookies.get(COOKIE)
    assert value
    payload, _, signature = value.rpartition(".")
    forged = payload.replace(payload[2], "Z" if payload[2] != "Z" else "Y", 1)
    client.cookies.clear()
    client.cookies.set(COOKIE, f"{forged}.{signature}", path="/admin")
    response = client.get("/admin", follow_redirects=False)
    assert response.status_code == 303


def test_login_sets_a_strict_http_only_cookie_and_logout_ends_it(client: TestClient) -> None:
    page = client.get("/admin/login")
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie
    token = log_in(client, new_key(client, "admin"))
    assert client.get("/admin").status_code == 200
    out = client.post("/admin/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_a_revoked_key_s_session_ends(client: TestClient) -> None:
    key = client.app.state.services.keys.create("soon-gone", "admin")  # type: ignore[attr-defined]
    log_in(client, key.key)
    client.app.state.services.keys.revoke(key.id)  # type: ignore[attr-defined]
    response = client.get("/admin/experts", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=/admin/experts"


@pytest.mark.parametrize("token", [None, "wrong"])
def test_a_form_post_without_the_csrf_token_is_refused(
    client: TestClient, token: str | None
) -> None:
    log_in(client, new_key(client, "admin"))
    data = {"name": "sneaky", "role": "admin"} | ({"csrf_token": token} if token else {})
    response = client.post("/admin/keys", data=data)
    assert response.status_code == 403 and "CSRF" in response.text
    names = [k.name for k in client.app.state.services.keys.list()]  # type: ignore[attr-defined]
    assert "sneaky" not in names


def test_the_login_redirect_stays_on_the_dashboard(client: TestClient) -> None:
    page = client.get("/admin/login?next=https://evil.example/")
    assert 'name="next" value="/admin"' in page.text
    page = client.get("/admin/login?next=/admin/keys")
    done = client.post(
        "/admin/login",
        data={"key": new_key(client, "admin"), "csrf_token": csrf_of(page.text), "next": "//evil"},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/admin"
