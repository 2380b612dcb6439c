"""Helpers for the browser tests (tests/e2e/browser): Debian's chromium located, a real
`symoe serve` with an admin and a user key, the dashboard's login and screenshots kept as
test artifacts. Playwright drives the system chromium through `executable_path`; its own
browser download (`playwright install`) is never used."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import yaml

from orchestrator.api.process import ServerProcess, create_key, start_server
from tests.conftest import REPO, shared_data_dir

if TYPE_CHECKING:
    from playwright.sync_api import Page

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "tests" / "artifacts" / "screenshots"


def chromium_path() -> str | None:
    """Debian's chromium (package `chromium`), or None where it is not installed."""
    found = shutil.which("chromium")
    if found:
        return found
    return str(DEBIAN_CHROMIUM) if os.access(DEBIAN_CHROMIUM, os.X_OK) else None


def screenshot_dir() -> Path:
    """Where screenshots go: $SYMOE_TEST_ARTIFACTS, else tests/artifacts/screenshots."""
    return Path(os.environ.get("SYMOE_TEST_ARTIFACTS") or SCREENSHOTS)


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot of `page` saved as `<screenshot_dir>/<name>.png`; the path."""
    # a name is a file name, never a path: anything else becomes '-'
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "page"
    path = screenshot_dir() / f"{safe}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass(frozen=True)
class DashboardServer:
    """A running `symoe serve`; `env` reaches its database from a `symoe` subprocess."""

    base_url: str
    admin_key: str
    user_key: str
    env: dict[str, str]
    process: ServerProcess


def scripted_expert(name: str, answer: str = "B") -> dict[str, object]:
    """An expert that answers from a script: no model is loaded."""
    return {
        "name": name,
        "backend": "scripted",
        "model": f"scripted/{name}",
        "roles": ["expert", "aggregator"],
        "options": {"default": f"{name} thinks. The answer is ({answer})."},
    }


def server_env(
    home: Path,
    experts: list[dict[str, object]] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment for a server and its CLI: its own SQLite data dir under `home`,
    scripted experts (two unless `experts` is given), no profile file, no hub access."""
    data = home / "home"
    data.mkdir(parents=True, exist_ok=True)
    experts_file = home / "experts.yaml"
    chosen = experts if experts is not None else [scripted_expert("e0"), scripted_expert("e1")]
    experts_file.write_text(yaml.safe_dump({"experts": chosen}))
    return {
        **os.environ,
        "SYMOE_DATA_DIR": str(data),
        "SYMOE_SHARED_DATA_DIR": str(shared_data_dir()),
        "SYMOE_EXPERTS_FILE": str(experts_file),
        "SYMOE_PROFILE_FILE": "",
        "HF_HUB_OFFLINE": "1",
        **(extra_env or {}),
    }


@contextmanager
def running_dashboard(
    home: Path,
    experts: list[dict[str, object]] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[DashboardServer]:
    """A real `symoe serve` on a free loopback port (up once /healthz answers) with an admin
    key made by `symoe keys create` on its database and a user key the admin key created
    through the API; stopped afterwards. Its log is `home/serve.log`."""
    env = server_env(home, experts, extra_env)
    admin_key = create_key(env, role="admin", name="dashboard-admin")
    process = start_server(env, home / "serve.log")
    try:
        # through the API, not a second `symoe keys create`: saves a CLI start (seconds)
        created = httpx.post(
            f"{process.url}/v1/admin/keys",
            json={"name": "dashboard-user", "role": "user"},
            headers={"Authorization": f"Bearer {admin_key}"},
            timeout=60,
        )
        created.raise_for_status()
        user_key = str(created.json()["key"])
        yield DashboardServer(process.url, admin_key, user_key, env, process)
    finally:
        process.stop()


def login(page: Page, server: DashboardServer, key: str | None = None) -> None:
    """Sign in to the dashboard with the admin key (or `key`) through its login form and
    wait for the redirect to /admin."""
    page.goto(f"{server.base_url}/admin/login")
    page.fill("input[name='key']", key if key is not None else server.admin_key)
    page.click("button[type='submit']")
    page.wait_for_url(f"{server.base_url}/admin")
