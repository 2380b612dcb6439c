"""Trace durability with a real `symoe serve` that is killed (SIGKILL) or stopped (SIGTERM):
an answer the server reported as stored (`Symoe-Trace-Stored: true`) is in the database after
the kill; one killed between its answer and its commit never reported success; traces still
queued at SIGTERM are stored before the process exits."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
import yaml

from orchestrator.api.process import ServerProcess, create_key, start_server
from orchestrator.api.trace_header import TRACE_STORED_HEADER
from orchestrator.db import Stores
from orchestrator.db.engine import make_engine, session_factory
from tests.celery_support import scripted

pytestmark = [pytest.mark.embeddings, pytest.mark.slow]

MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


def _env(cli_env: dict[str, str], tmp_path: Path, **settings: str) -> dict[str, str]:
    experts_file = tmp_path / "experts.yaml"
    experts_file.write_text(yaml.safe_dump({"experts": [scripted("e0"), scripted("e1")]}))
    env = {**cli_env, "SYMOE_EXPERTS_FILE": str(experts_file), "SYMOE_PROFILE_FILE": ""}
    env.update({f"SYMOE_{k.upper()}": v for k, v in settings.items()})
    return env


def _stored(env: dict[str, str], query_id: str) -> bool:
    engine = make_engine(f"sqlite:///{Path(env['SYMOE_DATA_DIR']) / 'symoe.db'}")
    try:
        return Stores(session_factory(engine)).traces.get_trace(query_id) is not None
    finally:
        engine.dispose()


def _serve(env: dict[str, str], tmp_path: Path) -> tuple[ServerProcess, dict[str, str]]:
    headers = {"Authorization": f"Bearer {create_key(env)}"}
    return start_server(env, tmp_path / "serve.log"), headers


def _ask(server: ServerProcess, headers: dict[str, str], n: int = 1) -> list[httpx.Response]:
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
        body = {"question": MC, "k": 1, "aggregation": "vote"}
        return [client.post("/v1/answers", json=body) for _ in range(n)]


def test_a_trace_reported_stored_survives_a_kill(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = _env(cli_env, tmp_path)  # the default: trace_durability=commit
    server, headers = _serve(env, tmp_path)
    try:
        (response,) = _ask(server, headers)
        assert response.status_code == 200, response.text
        assert response.headers[TRACE_STORED_HEADER] == "true"
    finally:
        server.stop(graceful=False)  # SIGKILL right after the response
    assert _stored(env, response.json()["trace"]["query_id"])


def test_a_kill_between_answer_and_commit_reports_no_stored_trace(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    # the commit waits 60 s for company: the answer is ready, its trace not yet committed
    env = _env(cli_env, tmp_path, trace_commit_delay_ms="60000")
    server, headers = _serve(env, tmp_path)
    answered: list[httpx.Response | Exception] = []

    def ask() -> None:
        try:
            answered.extend(_ask(server, headers))
        except httpx.HTTPError as exc:
            answered.append(exc)

    request = threading.Thread(target=ask)
    try:
        request.start()
        request.join(timeout=5)  # answered in milliseconds; the commit is what it waits for
        assert request.is_alive(), f"returned before its trace was committed: {answered}"
    finally:
        server.stop(graceful=False)
    request.join(timeout=30)
    (outcome,) = answered
    assert isinstance(outcome, httpx.HTTPError)  # the connection died: no success reported


def test_background_traces_are_pending_until_a_stop_flushes_them(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    env = _env(cli_env, tmp_path, trace_durability="background", trace_commit_delay_ms="60000")
    server, headers = _serve(env, tmp_path)
    try:
        responses = _ask(server, headers, n=3)
        assert all(r.status_code == 200 for r in responses)
        assert {r.headers[TRACE_STORED_HEADER] for r in responses} == {"false"}
        ids = [r.json()["trace"]["query_id"] for r in responses]
        assert not any(_stored(env, q) for q in ids)  # still queued (60 s commit delay)
    finally:
        server.stop(graceful=True)  # SIGTERM: the writer flushes before the process exits
    assert server.proc.returncode is not None
    assert all(_stored(env, q) for q in ids)

    killed_env = _env(
        cli_env, tmp_path, trace_durability="background", trace_commit_delay_ms="60000"
    )
    server, headers = _serve(killed_env, tmp_path)
    try:
        (response,) = _ask(server, headers)
        assert response.headers[TRACE_STORED_HEADER] == "false"  # it said so: not yet stored
    finally:
        server.stop(graceful=False)
    assert not _stored(killed_env, response.json()["trace"]["query_id"])  # lost, as promised
