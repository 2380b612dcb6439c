"""Schemathesis over the app's own OpenAPI schema: for every operation, requests that fit the
schema and requests that do not, sent with an admin key, must never get a 5xx, and every
response must match the schema declared for its status.

FUZZ_EXAMPLES (100) per operation and generation mode, derandomized (the same examples each
run), over scripted experts, on SQLite and on a PostgreSQL schema (which refuses more: NUL
in text, integers past 64 bits). For a longer hunt raise FUZZ_EXAMPLES and drop
`derandomize` locally. README gives the time each database takes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from orchestrator.api.app import create_app
from orchestrator.settings import Settings

from .conftest import DATABASES, ScriptedDeployment, database, scripted_settings

FUZZ_EXAMPLES = 100
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
        self.schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=headers)
        self.headers = headers


@pytest.fixture(scope="module", params=DATABASES)
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    with database(request.param) as url:
        settings_ = scripted_settings(
            tmp_path_factory.mktemp("fuzz"),
            database_url=url,
            microbatch_window_ms=0,
            api_rate_limit_per_minute=0,
            api_public_docs=False,  # the schema behind the key, as in a distributed deployment
        )
        app = create_app(deployment=ScriptedDeployment(settings_))
        with TestClient(app) as client:  # a key in the database the fuzzed app will read
            key = client.app.state.services.keys.create("fuzz", "admin").key  # type: ignore[attr-defined]
        yield FuzzTarget(app, {"Authorization": f"Bearer {key}"})


# Bounded by the server's budgets instead (answers.service.within_budget: one check, one
# message naming the real limit); the schema cannot know a server's settings.
BUDGETED = {"k", "max_experts", "max_tokens", "max_completion_tokens"}


def unbounded_integers(schema: dict[str, Any], node: Any, name: str = "") -> set[str]:
    """Names of the integers in a request schema that have no maximum."""
    if isinstance(node, list):
        return set().union(*(unbounded_integers(schema, n, name) for n in node))
    if not isinstance(node, dict):
        return set()
    if "$ref" in node:
        *_, component = node["$ref"].split("/")
        return unbounded_integers(schema, schema["components"]["schemas"][component], name)
    found = {name} if node.get("type") == "integer" and "maximum" not in node else set()
    for key in ("anyOf", "oneOf", "allOf", "items", "additionalProperties"):
        found |= unbounded_integers(schema, node.get(key), name)
    for prop, sub in node.get("properties", {}).items():
        found |= unbounded_integers(schema, sub, prop)
    return found


def test_every_integer_a_request_can_send_is_bounded() -> None:
    """An unbounded integer reached the database (a job's offset: OverflowError, DataError)."""
    schema = create_app(Settings()).openapi()
    unbounded: set[str] = set()
    for ops in schema["paths"].values():
        for op in ops.values():
            for param in op.get("parameters", []):
                unbounded |= unbounded_integers(schema, param["schema"], param["name"])
            for media in op.get("requestBody", {}).get("content", {}).values():
                unbounded |= unbounded_integers(schema, media["schema"])
    assert unbounded <= BUDGETED


def test_the_schema_lists_every_feature() -> None:
    paths = {path for _, path, _ in operations()}
    assert {"/v1/answers", "/v1/admin/experts", "/healthz"} <= paths


@pytest.mark.slow  # about 70 s per database for every operation (README, Benchmarks)
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
