"""Input the database cannot store (NUL characters, unpaired surrogates, NaN) gets a 400
naming the field on every route that takes text, before any model runs, on SQLite and on
PostgreSQL (which refused NUL with a 500 after the whole pipeline had run)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator.api.app import create_app
from orchestrator.api.input_guard import unstorable
from orchestrator.settings import Settings

from .conftest import DATABASES, MC, ScriptedDeployment, database, new_key, scripted_settings

NUL = "\x00"
CHAT: dict[str, Any] = {"model": "symoe", "messages": [{"role": "user", "content": MC}]}
EXPERT = {"name": "x1", "backend": "scripted", "model": "scripted/x1"}


@dataclass
class Case:
    """A request with a NUL character where a client can put text, and the field the 400
    must name."""

    method: str
    path: str  # as the route declares it, e.g. /v1/jobs/{job_id}
    param: str
    url: str | None = None  # default: `path` with every {parameter} a text with NUL
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def request_url(self) -> str:
        if self.url is not None:
            return self.url
        return "/".join("a%00b" if p.startswith("{") else p for p in self.path.split("/"))

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} {self.param}"


CASES = [
    Case("POST", "/v1/answers", "question", body={"question": f"What{NUL}?"}),
    Case("POST", "/v1/answers", "experts.1", body={"question": MC, "experts": ["e0", NUL]}),
    Case("POST", "/v1/answers", "aggregator", body={"question": MC, "aggregator": f"e0{NUL}"}),
    Case("POST", "/v1/jobs", "questions.1", body={"questions": [MC, f"{MC}{NUL}"]}),
    Case(
        "POST",
        "/v1/jobs",
        "Idempotency-Key",  # stored with the job; HTTP servers refuse NUL in headers anyway
        body={"questions": [MC]},
        headers={"Idempotency-Key": f"retry{NUL}1"},
    ),
    Case("GET", "/v1/jobs/{job_id}", "job_id"),
    Case("GET", "/v1/jobs/{job_id}/events", "job_id"),
    Case("DELETE", "/v1/jobs/{job_id}", "job_id"),
    Case(
        "POST",
        "/v1/chat/completions",
        "messages.1.content",
        body={**CHAT, "messages": [*CHAT["messages"], {"role": "user", "content": f"a{NUL}"}]},
    ),
    Case(
        "POST",
        "/v1/chat/completions",
        "messages.0.content.0.text",
        body={**CHAT, "messages": [{"role": "user", "content": [{"type": "text", "text": NUL}]}]},
    ),
    Case("POST", "/v1/chat/completions", "model", body={**CHAT, "model": f"e0{NUL}"}),
    Case(
        "POST",
        "/v1/chat/completions",
        "symoe.experts.0",
        body={**CHAT, "symoe": {"experts": [NUL]}},
    ),
    Case("GET", "/v1/models/{model}", "model"),
    Case("GET", "/v1/admin/experts/{name}", "name"),
    Case("POST", "/v1/admin/experts", "options.note", body={**EXPERT, "options": {"note": NUL}}),
    Case("PATCH", "/v1/admin/experts/{name}", "name", body={"enabled": True}),
    Case(
        "PATCH",
        "/v1/admin/experts/{name}",
        "generation.stop.0",
        url="/v1/admin/experts/e0",
        body={"generation": {"stop": [f"Q{NUL}"]}},
    ),
    Case(
        "PATCH",
        "/v1/admin/experts/{name}",
        "options.a\\x00b",  # a key with NUL, named as Python escapes it
        url="/v1/admin/experts/e0",
        body={"options": {f"a{NUL}b": 1}},
    ),
    Case("POST", "/v1/admin/experts/{name}/enable", "name"),
    Case("POST", "/v1/admin/experts/{name}/disable", "name"),
    Case("GET", "/v1/admin/profile-sets/{name}", "name"),
    Case("POST", "/v1/admin/profile-sets/{name}/activate", "name"),
    Case("POST", "/v1/admin/keys", "name", body={"name": f"ops{NUL}", "role": "user"}),
    Case("POST", "/v1/admin/keys/{key_id}/revoke", "key_id"),
    Case(
        "GET",
        "/v1/admin/stats/recruitment",
        "since",
        url="/v1/admin/stats/recruitment?since=2024-01-01%00",
    ),
    Case("POST", "/v1/admin/documents", "0.text", body=[{"source": "a", "text": f"b{NUL}c"}]),
    Case("DELETE", "/v1/admin/documents", "source", url="/v1/admin/documents?source=a%00b"),
    Case("GET", "/v1/admin/documents/search", "q", url="/v1/admin/documents/search?q=a%00b"),
    Case("POST", "/v1/workflows/{name}/runs", "name", body={"input": "a scene"}),
    Case(
        "POST",
        "/v1/workflows/{name}/runs",
        "input",
        url="/v1/workflows/soundscape/runs",
        body={"input": f"a scene{NUL}"},
    ),
    Case("GET", "/v1/workflows/runs/{run_id}", "run_id"),
    Case("GET", "/v1/workflows/runs/{run_id}/events", "run_id"),
    Case("GET", "/v1/workflows/runs/{run_id}/artifacts/{path}", "run_id"),
    Case(
        "GET",
        "/v1/workflows/runs/{run_id}/artifacts/{path}",
        "path",
        url="/v1/workflows/runs/0123/artifacts/a%00b.wav",
    ),
]


@dataclass
class Guarded:
    client: TestClient
    headers: dict[str, str]
    runner_calls: list[object]


@pytest.fixture(scope="module", params=DATABASES)
def guarded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Guarded]:
    """One app per database for the module; every call to its runner is recorded."""
    with database(request.param) as url:
        settings = scripted_settings(tmp_path_factory.mktemp("guard"), database_url=url)
        app = create_app(deployment=ScriptedDeployment(settings))
        with TestClient(app, raise_server_exceptions=False) as client:
            runner = client.app.state.services.runner  # type: ignore[attr-defined]
            calls: list[object] = []
            run = runner.run_groups

            def recording_run(*args: Any, **kwargs: Any) -> Any:
                calls.append(args)
                return run(*args, **kwargs)

            runner.run_groups = recording_run
            headers = {"Authorization": f"Bearer {new_key(client, 'admin')}"}
            yield Guarded(client, headers, calls)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_nul_is_refused_naming_the_field_before_any_model_runs(
    guarded: Guarded, case: Case
) -> None:
    response = guarded.client.request(
        case.method,
        case.request_url(),
        json=case.body,
        headers=guarded.headers | case.headers,
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == case.param
    assert error["message"].startswith(case.param) and "NUL" in error["message"]
    assert guarded.runner_calls == []
    store = guarded.client.app.state.services.deployment.stores.traces  # type: ignore[attr-defined]
    assert store.recent() == []


def test_every_operation_that_takes_text_has_a_case() -> None:
    """A new route with a path parameter or a body must join CASES."""
    paths: dict[str, dict[str, Any]] = create_app(Settings()).openapi()["paths"]
    taking_text = {
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "requestBody" in operation
        or any(p["in"] in ("path", "query") for p in operation.get("parameters", []))
    }
    assert taking_text - {f"{c.method} {c.path}" for c in CASES} == set()


@pytest.mark.parametrize(
    ("raw", "param", "fragment"),
    [
        ('{"question": "a\\ud800b"}', "question", "unpaired surrogate"),
        ('{"question": "q", "experts": [NaN]}', "experts.0", "finite"),
        ('{"question": "q", "max_tokens": Infinity}', "max_tokens", "finite"),
        ('{"question": "q", "experts": [1e999]}', "experts.0", "finite"),
    ],
)
def test_other_text_and_numbers_the_database_cannot_store(
    guarded: Guarded, raw: str, param: str, fragment: str
) -> None:
    headers = guarded.headers | {"Content-Type": "application/json"}
    response = guarded.client.post("/v1/answers", content=raw, headers=headers)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param and fragment in error["message"]


def test_an_escaped_backslash_is_ordinary_text(guarded: Guarded) -> None:
    body = {"question": f"{MC} (a literal \\u0000 in the text)", "aggregation": "vote"}
    headers = guarded.headers | {"Content-Type": "application/json"}
    response = guarded.client.post("/v1/answers", content=json.dumps(body), headers=headers)
    assert response.status_code == 200, response.text
    assert "\\u0000" in response.json()["trace"]["question"]


def test_the_walk_names_the_first_bad_value_at_any_depth() -> None:
    assert unstorable({"a": [{"b": "ok"}, {"c": ["x", f"y{NUL}"]}]}) == (
        ("a", "1", "c", "1"),
        "text must not contain NUL characters (\\u0000)",
    )
    assert unstorable({"a": [1, 2.5, None, True, "ok"]}) is None
