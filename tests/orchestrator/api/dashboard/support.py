"""Logging a TestClient into the dashboard the way a browser does: the login page's cookie
and CSRF token, then the form."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def log_in(client: TestClient, key: str) -> str:
    """Log in with `key`; returns the session's CSRF token for later forms."""
    page = client.get("/admin/login")
    assert page.status_code == 200
    done = client.post(
        "/admin/login",
        data={"key": key, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return csrf_of(client.get("/admin").text)
