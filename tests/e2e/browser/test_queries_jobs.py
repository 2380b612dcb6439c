"""Queries, jobs and routing in Debian's chromium against a real `symoe serve`: questions
answered with the user key are found in the query list and their trace opens as a tree; a
job started through the API with the user key is watched live on its page (server-sent
events move its progress) and cancelled there; the routing page draws its charts. A
screenshot of each page is saved (tests/artifacts/screenshots, or $SYMOE_TEST_ARTIFACTS).

The server has its own experts: e0 and e1 answer at once, `slow` waits half a second per
call, so a job drawn from `slow` alone is still running when the test cancels it."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser_support import (
    DashboardServer,
    login,
    running_dashboard,
    scripted_expert,
    shot,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardServer]:
    slow = scripted_expert("slow") | {"options": {"default": "slow thinks. (B)", "delay_s": 0.5}}
    experts = [scripted_expert("e0"), scripted_expert("e1"), slow]
    home = tmp_path_factory.mktemp("queries-jobs")
    # two questions a chunk: progress moves often, and a cancel lands between chunks
    with running_dashboard(home, experts, {"SYMOE_API_JOB_CHUNK_SIZE": "2"}) as running:
        yield running


def api(server: DashboardServer, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"{server.base_url}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {server.user_key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def test_find_a_query_and_open_its_trace(page: Page, server: DashboardServer) -> None:
    opts = {"k": 2, "aggregation": "vote", "experts": ["e0", "e1"]}
    asked = [api(server, "POST", "/v1/answers", {"question": f"{w}: {MC}", **opts})
             for w in ("Apples", "Pears", "Plums")]  # fmt: skip
    login(page, server)
    page.click("nav >> text=Queries")
    assert page.locator("#queries tbody tr[data-query]").count() >= 3
    page.fill("input[name='q']", "pears")
    page.click("form.filters button[type='submit']")
    page.wait_for_url("**/admin/queries?q=pears*")
    rows = page.locator("#queries tbody tr[data-query]")
    assert rows.count() == 1 and "Pears" in rows.first.inner_text()
    shot(page, "dashboard-queries")

    rows.first.locator("a").click()
    trace = asked[1]["trace"]
    page.wait_for_url(f"**/admin/queries/{trace['query_id']}")
    slots = page.locator("li.slot summary strong")
    assert slots.all_inner_texts() == trace["recruitment"]["drawn"]
    assert "thinks. The answer is (B)." in page.locator("li.slot li.answer").first.inner_text()
    assert page.locator("li.final .extracted").inner_text() == "B"
    shot(page, "dashboard-query-trace")


def test_watch_a_job_live_and_cancel_it(page: Page, server: DashboardServer) -> None:
    body = {"questions": [f"{MC} ({i})" for i in range(200)], "k": 1, "aggregation": "vote",
            "experts": ["slow"]}  # fmt: skip
    job = api(server, "POST", "/v1/jobs", body)
    login(page, server)
    page.click("nav >> text=Jobs")
    row = page.locator(f"tr[data-job='{job['id']}']")
    assert row.count() == 1
    shot(page, "dashboard-jobs")

    row.locator("a").click()
    page.wait_for_url(f"**/admin/jobs/{job['id']}")
    # jobs.js writes each `progress` event's count here: answered items, seen live
    page.wait_for_function(
        "Number(document.getElementById('job-progress').dataset.completed || 0) >= 2",
        timeout=60_000,
    )
    assert page.locator("#job-status").inner_text() == "running"
    shot(page, "dashboard-job-running")

    page.once("dialog", lambda dialog: dialog.accept())  # "Cancel job …?"
    page.click("#cancel-job button[type='submit']")
    page.wait_for_url("**/admin/jobs/*?done=cancelled")
    assert page.locator("#job-status").inner_text() == "cancelled"
    assert page.locator("#cancel-job").count() == 0
    shot(page, "dashboard-job-cancelled")
    after = api(server, "GET", f"/v1/jobs/{job['id']}?limit=200")
    assert after["status"] == "cancelled" and 2 <= after["completed"] < 200
    assert [i["status"] for i in after["items"]].count("cancelled") == 200 - after["completed"]


def test_routing_draws_its_charts(page: Page, server: DashboardServer) -> None:
    api(server, "POST", "/v1/answers", {"question": MC, "k": 2, "experts": ["e0", "e1"]})
    login(page, server)
    page.click("nav >> text=Routing")
    page.wait_for_url("**/admin/routing")
    assert page.locator("svg.chart.bars").count() >= 1
    assert page.locator("svg.chart.line polyline").count() == 2
    drawn = page.locator("#routing-experts tr[data-expert='e0'] td.draws").inner_text()
    assert int(drawn) >= 1
    shot(page, "dashboard-routing")
