"""Fixtures for the browser tests: Debian's chromium driven by Playwright (one browser per
session, a fresh context per test) against one real `symoe serve` per session. The tests
skip, saying why, only where chromium or playwright is not installed (scripts/setup --dev
installs both). A failed test leaves a screenshot of its page (`failed-<test>.png`)."""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser_support import DashboardServer, chromium_path, running_dashboard, shot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # remembered so the `page` fixture's teardown knows to keep a screenshot
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip(
            "Debian's chromium is not installed (bash scripts/setup --dev installs it: "
            "apt-get install chromium)"
        )
    return path


# Module scope, not session: while sync Playwright is started, its event loop counts as
# running in this thread, and every later test's asyncio.run() would fail.
@pytest.fixture(scope="module")
def browser(chromium_executable: str) -> Iterator[Browser]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
    )
    playwright = sync_api.sync_playwright().start()
    try:
        # --no-sandbox: the tests run as root, where chromium's sandbox refuses to start
        launched: Browser = playwright.chromium.launch(
            executable_path=chromium_executable, args=["--no-sandbox"]
        )
        yield launched
        launched.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a new browser context (no cookies from other tests)."""
    context = browser.new_context()
    opened = context.new_page()
    try:
        yield opened
        if request.node.stash.get(FAILED, False):
            # a page that cannot be photographed must not hide the test's own failure
            with contextlib.suppress(Exception):
                shot(opened, f"failed-{request.node.name}")
    finally:
        context.close()


@pytest.fixture(scope="session")
def dashboard_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardServer]:
    """One `symoe serve` for the session: scripted experts, its own SQLite database, an admin
    and a user key. Its log is `serve.log` in its temporary folder."""
    home: Path = tmp_path_factory.mktemp("dashboard")
    with running_dashboard(home) as server:
        yield server
