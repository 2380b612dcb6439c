"""The browser harness itself: Debian's chromium, driven by Playwright, reads a real
`symoe serve` (the one the dashboard tests share) and leaves screenshots as artifacts. /docs
is not opened: FastAPI's Swagger page loads its scripts from a CDN, out of reach offline."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.browser_support import DashboardServer, shot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_chromium_reads_healthz_and_a_screenshot_is_kept(
    page: Page, dashboard_server: DashboardServer
) -> None:
    response = page.goto(f"{dashboard_server.base_url}/healthz")
    assert response is not None and response.status == 200
    assert json.loads(page.inner_text("body")) == {"status": "ok"}

    path = shot(page, "harness healthz")
    assert path.name == "harness-healthz.png"
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_the_admin_key_reaches_admin_endpoints_and_the_user_key_does_not(
    page: Page, dashboard_server: DashboardServer
) -> None:
    admin_experts = f"{dashboard_server.base_url}/v1/admin/experts"
    page.set_extra_http_headers({"Authorization": f"Bearer {dashboard_server.admin_key}"})
    response = page.goto(admin_experts)
    assert response is not None and response.status == 200
    experts = json.loads(page.inner_text("body"))
    assert sorted(e["name"] for e in experts) == ["e0", "e1"]  # the scripted experts
    shot(page, "harness-admin-experts")

    as_user = page.request.get(
        admin_experts, headers={"Authorization": f"Bearer {dashboard_server.user_key}"}
    )
    assert as_user.status == 403
    assert as_user.json()["error"]["code"] == "admin_required"
