"""Schemathesis over the app's own OpenAPI schema: for every operation, requests that fit the
schema and requests that do not, sent with an admin key, must never get a 5xx, and every
response must match the schema declared for its status.

Kept short for CI: FUZZ_EXAMPLES per operation and generation mode, derandomized (the same
examples each run), over scripted experts. For a longer hunt raise FUZZ_EXAMPLES and drop
`derandomize` locally (150 random examples each found nothing at the time of writing)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from orchestrator.api.app import create_app
from orchestrator.settings import Settings

from .conftest import ScriptedDeployment, scripted_experts

FUZZ_EXAMPLES = 10
METHODS = ("get", "post", "put", "patch", "delete")


def operations() -> list[tuple[str, str, bool]]:
    """(method, path, whether a request can break its schema) of every operation, read
    from the schema without starting the app."""
    paths: dict[str, dict[str, Any]] = create_app(Settings()).openapi()["paths"]
    return [
        (m.upper(), path, _breakable(op))
        for path, ops in paths.items()
        for m, op in ops.items()
        if m in METHODS
    ]


def _breakable(operation: dict[str, Any]) -> bool:
    """A body or a constrained parameter; any string fits a bare string parameter."""
    bare = {"type": "string"}
    return "requestBody" in operation or any(
        {k: v for k, v in p.get("schema", {}).items() if k != "title"} != bare
        for p in operation.get("parameters", [])
    )


def cases() -> list[tuple[str, str, GenerationMode]]:
    return [
        (method, path, mode)
        for method, path, takes_input in operations()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if takes_input or mode is GenerationMode.POSITIVE
    ]


class FuzzTarget:
    def __init__(self, app: FastAPI, headers: dict[str, str]) -> None:
        self.schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        self.headers = headers


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    experts_file = tmp / "experts.yaml"
    experts_file.write_text(yaml.safe_dump({"experts": scripted_experts()}))
    settings_ = Settings(
        data_dir=tmp / "home",
        experts_file=experts_file,
        profile_file=None,
        microbatch_window_ms=0,
        api_rate_limit_per_minute=0,
    )
    app = create_app(deployment=ScriptedDeployment(settings_))
    with TestClient(app) as client:  # a key in the database the fuzzed app will read
        key = client.app.state.services.keys.create("fuzz", "admin").key  # type: ignore[attr-defined]
    yield FuzzTarget(app, {"Authorization": f"Bearer {key}"})


def test_the_schema_lists_every_feature() -> None:
    paths = {path for _, path, _ in operations()}
    assert {"/v1/answers", "/v1/admin/experts", "/healthz"} <= paths


@pytest.mark.parametrize(("method", "path", "mode"), cases())
def test_no_server_errors(target: FuzzTarget, method: str, path: str, mode: GenerationMode) -> None:
    operation = target.schema[path][method]
    strategy = operation.as_strategy(generation_mode=mode, headers=target.headers)

    @given(case=strategy)
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same examples on every CI run
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

    fuzz()
