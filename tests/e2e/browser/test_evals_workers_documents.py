"""Evaluation runs, workers and documents in Debian's chromium against a real `symoe serve`:
an eval run made by the real `symoe eval run` in the server's eval runs dir opens with its
metrics, plots (loaded images) and report, and compares with a second run; the workers page
shows the server's own pool after an answer; a file uploaded through the page is ingested
and listed, and its chunks open. A screenshot of each page is saved (tests/artifacts/
screenshots, or $SYMOE_TEST_ARTIFACTS)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser_support import DashboardServer, login, running_dashboard, shot
from tests.minilm import minilm_or_skip
from tests.orchestrator.api.dashboard.eval_runs import make_eval_run

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


def test_open_an_eval_run_and_compare_it(
    page: Page, dashboard_server: DashboardServer, tmp_path: Path
) -> None:
    runs = Path(dashboard_server.env["SYMOE_DATA_DIR"]) / "eval-runs"
    make_eval_run(runs / "browser-good", tmp_path / "good")
    make_eval_run(runs / "browser-worse", tmp_path / "worse", {"q1": "C"})
    login(page, dashboard_server)
    page.click("nav >> text=Evaluation runs")
    assert page.locator("tr[data-run='browser-good']").count() == 1
    shot(page, "dashboard-evals")
    page.click("tr[data-run='browser-worse'] a")
    page.wait_for_url("**/admin/evals/browser-worse")
    assert page.locator("tr[data-stream='symoe'] td.acc").inner_text() == "75.0"
    images = page.locator(".plots img")
    assert images.count() == 4  # accuracy, per category, versus cost, experts per category
    for i in range(images.count()):  # each plot was served and decoded
        images.nth(i).scroll_into_view_if_needed()
        width = images.nth(i).evaluate("img => img.complete ? img.naturalWidth : -1")
        assert width > 100
    assert page.locator("#report").inner_text().startswith("# Evaluation: generic")
    shot(page, "dashboard-eval-run")
    page.select_option("select[name='b']", "browser-good")
    page.click("form.inline button[type='submit']")
    page.wait_for_url("**/admin/evals/compare?a=browser-worse&b=browser-good")
    row = page.locator("tr[data-method='symoe'] td")
    assert row.all_inner_texts() == ["symoe", "75.0", "100.0", "+25.0"]
    shot(page, "dashboard-evals-compare")


def test_the_workers_page_shows_the_server_s_pool(
    page: Page, dashboard_server: DashboardServer
) -> None:
    body = json.dumps({"question": MC, "k": 2, "aggregation": "vote"}).encode()
    request = urllib.request.Request(
        f"{dashboard_server.base_url}/v1/answers",
        data=body,
        headers={
            "Authorization": f"Bearer {dashboard_server.user_key}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        drawn = set(json.load(response)["trace"]["recruitment"]["drawn"])
    login(page, dashboard_server)
    page.click("nav >> text=Workers")
    assert "There are no remote workers" in page.locator("#no-remote").inner_text()
    for name in drawn:
        assert page.locator(f"tr[data-model='{name}'] td").nth(1).inner_text() == "yes"
    shot(page, "dashboard-workers")


def test_upload_a_document_and_see_it_listed(
    page: Page, dashboard_server: DashboardServer, tmp_path: Path
) -> None:
    minilm_or_skip()  # the server embeds with the same installed weights
    notes = tmp_path / "quenby-notes.md"
    notes.write_text("# Quenby\n\nThe Zorblat festival is held in Quenby every March.\n")
    login(page, dashboard_server)
    page.click("nav >> text=Documents")
    shot(page, "dashboard-documents-empty")
    page.set_input_files("#upload input[type='file']", str(notes))
    page.click("#upload button[type='submit']")
    page.wait_for_url("**/admin/documents?done=*")
    assert page.locator(".done").inner_text() == "added quenby-notes.md (1 chunks)"
    row = page.locator("tr[data-document='quenby-notes.md']")
    assert row.locator("td").nth(2).inner_text() == "1"
    shot(page, "dashboard-documents")
    row.locator("a").click()
    assert "Zorblat festival" in page.locator("tr[data-chunk='0']").inner_text()
    shot(page, "dashboard-document-chunks")


@pytest.mark.redis
def test_the_workers_page_with_celery_shows_a_real_worker(
    page: Page, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.celery_support import (
        BACKEND,
        BROKER,
        client_app,
        flush_redis,
        running_worker,
        scripted,
        worker_env,
    )

    flush_redis()
    home = tmp_path_factory.mktemp("workers-celery")
    celery = {"SYMOE_RUNNER": "celery", "SYMOE_BROKER_URL": BROKER, "SYMOE_RESULT_BACKEND": BACKEND}
    experts = [scripted("e0"), scripted("e1")]
    probe = client_app()
    try:
        with (
            running_worker(
                probe, worker_env(home, experts), home / "worker.log", "--experts", "e0"
            ),
            running_dashboard(home / "server", experts, celery) as server,
        ):
            login(page, server)
            page.click("nav >> text=Workers")
            worker = page.locator("tr[data-worker^='symoe-']")
            assert worker.count() == 1
            assert worker.locator("td").nth(2).inner_text() == "e0"
            queue = page.locator("tr[data-queue='expert.e1'] td")
            assert queue.all_inner_texts() == ["expert.e1", "0", "no worker"]
            shot(page, "dashboard-workers-celery")
    finally:
        probe.close()
        flush_redis()
