"""An app over scripted experts in a temporary data dir (SQLite), with keys of both roles.
Route tests talk to it through FastAPI's TestClient; the end-to-end tests in tests/e2e run a
real `symoe serve` process instead."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from orchestrator.api.app import create_app
from orchestrator.factory import Deployment
from orchestrator.settings import Settings
from orchestrator.taggers import Tagger
from tests.orchestrator.conftest import FixedTagger
from tests.postgres_support import throwaway_schema

MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


class ScriptedDeployment(Deployment):
    """The real deployment with a fixed tagger, so route tests need no embedding model."""

    def tagger(self, name: str | None = None) -> Tagger:
        return FixedTagger([])


def scripted_experts(n: int = 3) -> list[dict[str, object]]:
    return [
        {
            "name": f"e{i}",
            "backend": "scripted",
            "model": f"scripted/e{i}",
            "roles": ["expert", "aggregator"],
            "options": {"default": f"e{i} thinks. The answer is (B)."},
        }
        for i in range(n)
    ]


# The databases an app can run on in these tests; PostgreSQL ones are marked `postgres`.
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def database(kind: str) -> Iterator[str | None]:
    """A database URL for Settings: None (SQLite under the data dir) or a throwaway
    PostgreSQL schema, dropped afterwards."""
    if kind == "sqlite":
        yield None
        return
    with throwaway_schema() as url:
        yield url.render_as_string(hide_password=False)


def scripted_settings(tmp: Path, **overrides: Any) -> Settings:
    """Settings over three scripted experts in `tmp`, without a profile set."""
    experts_file = tmp / "experts.yaml"
    experts_file.write_text(yaml.safe_dump({"experts": scripted_experts()}))
    values: dict[str, Any] = {
        "data_dir": tmp / "home",
        "experts_file": experts_file,
        "profile_file": None,
        "microbatch_window_ms": 5,
        "api_rate_limit_per_minute": 10_000,
    }
    return Settings(**(values | overrides))


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return scripted_settings(tmp_path)


@pytest.fixture
def client(api_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(deployment=ScriptedDeployment(api_settings))) as test_client:
        yield test_client


def new_key(client: TestClient, role: str) -> str:
    return str(client.app.state.services.keys.create(f"test-{role}", role).key)  # type: ignore[attr-defined]


@pytest.fixture
def user_headers(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {new_key(client, 'user')}"}


@pytest.fixture
def admin_headers(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {new_key(client, 'admin')}"}
