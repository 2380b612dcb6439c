"""The admin dashboard in Debian's chromium against a real `symoe serve`: log in with the
admin key, disable an expert and see that new plans never draw it, create a key (shown
once) and revoke it; a user key cannot log in. A screenshot of each page is saved
(tests/artifacts/screenshots, or $SYMOE_TEST_ARTIFACTS)."""

from __future__ import annotations

import json
import urllib.request
from typing import TYPE_CHECKING

import pytest

from tests.browser_support import DashboardServer, login, shot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


def drawn(server: DashboardServer, question: str) -> list[str]:
    """Who a new plan draws: POST /v1/answers with the user key."""
    body = json.dumps({"question": question, "k": 2, "aggregation": "vote"}).encode()
    request = urllib.request.Request(
        f"{server.base_url}/v1/answers",
        data=body,
        headers={"Authorization": f"Bearer {server.user_key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return list(json.load(response)["trace"]["recruitment"]["drawn"])


def test_log_in_and_see_the_overview(page: Page, dashboard_server: DashboardServer) -> None:
    page.goto(f"{dashboard_server.base_url}/admin/experts")
    assert "/admin/login?next=" in page.url  # anonymous: sent to the login page
    shot(page, "dashboard-login")
    login(page, dashboard_server)
    assert page.locator("h1").inner_text() == "Overview"
    assert page.locator(".card").count() >= 2
    shot(page, "dashboard-overview")


def test_a_user_key_cannot_log_in(page: Page, dashboard_server: DashboardServer) -> None:
    page.goto(f"{dashboard_server.base_url}/admin/login")
    page.fill("input[name='key']", dashboard_server.user_key)
    page.click("button[type='submit']")
    assert page.locator(".error").inner_text() == "the dashboard needs an admin key"


def test_disable_an_expert_and_new_plans_never_draw_it(
    page: Page, dashboard_server: DashboardServer
) -> None:
    login(page, dashboard_server)
    page.click("nav >> text=Experts")
    row = page.locator("tr[data-expert='e1']")
    assert row.get_attribute("class") == "enabled"
    shot(page, "dashboard-experts")
    row.locator("button[type='submit']").click()
    page.wait_for_url("**/admin/experts?done=*")
    assert page.locator("tr[data-expert='e1']").get_attribute("class") == "disabled"
    shot(page, "dashboard-experts-e1-disabled")
    try:
        for i in range(5):
            assert drawn(dashboard_server, f"{MC} ({i})") == ["e0", "e0"]
    finally:  # the server is shared by the session's tests
        page.locator("tr[data-expert='e1'] button[type='submit']").click()
        page.wait_for_url("**/admin/experts?done=*")
    assert page.locator("tr[data-expert='e1']").get_attribute("class") == "enabled"


def test_create_a_key_then_revoke_it(page: Page, dashboard_server: DashboardServer) -> None:
    login(page, dashboard_server)
    page.goto(f"{dashboard_server.base_url}/admin/keys")
    page.fill("input[name='name']", "browser-made")
    page.click("form.inline button[type='submit']")
    secret = page.locator("#new-key").inner_text()
    assert len(secret) > 20
    shot(page, "dashboard-keys-created")
    page.goto(f"{dashboard_server.base_url}/admin/keys")
    assert secret not in page.content()  # shown once
    row = page.locator("tr", has_text="browser-made")
    page.once("dialog", lambda dialog: dialog.accept())  # "Revoke browser-made?"
    row.locator("button[type='submit']").click()
    page.wait_for_url("**/admin/keys?done=*")
    assert "revoked" in page.locator("tr", has_text="browser-made").inner_text()
    shot(page, "dashboard-keys-revoked")
    request = urllib.request.Request(
        f"{dashboard_server.base_url}/v1/models", headers={"Authorization": f"Bearer {secret}"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
