"""Batch jobs survive a crashed server: a real `symoe serve` is killed (SIGKILL) mid-job, a new
one starts on the same database, and the job finishes with every item answered exactly once."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from orchestrator.api.process import create_key, start_server

DEADLINE_S = 180.0
MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


def wait_for(predicate: Callable[[], Any], what: str, proc: subprocess.Popen[bytes]) -> Any:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the server exited ({proc.returncode}) waiting for {what}"
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def serve(env: dict[str, str], log: Path) -> Iterator[tuple[httpx.Client, subprocess.Popen[bytes]]]:
    """A `symoe serve` subprocess on a free loopback port, up once /healthz answers."""
    server = start_server(env, log)
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            yield client, server.proc
    finally:
        server.stop(graceful=False)


def db_rows(env: dict[str, str], sql: str, *args: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(Path(env["SYMOE_DATA_DIR"]) / "symoe.db") as conn:
        return conn.execute(sql, args).fetchall()


@pytest.fixture
def serve_env(cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """Slow scripted experts (0.2 s per model call), four questions per chunk."""
    experts = [
        {
            "name": f"e{i}",
            "backend": "scripted",
            "model": f"scripted/e{i}",
            "roles": ["expert", "aggregator"],
            "options": {"default": f"e{i} thinks. The answer is (B).", "delay_s": 0.2},
        }
        for i in range(3)
    ]
    experts_file = tmp_path / "experts.yaml"
    experts_file.write_text(yaml.safe_dump({"experts": experts}))
    return {
        **cli_env,
        "SYMOE_EXPERTS_FILE": str(experts_file),
        "SYMOE_PROFILE_FILE": "",
        "SYMOE_API_JOB_CHUNK_SIZE": "4",
        "SYMOE_API_JOB_LEASE_S": "3",  # the killed server's job is taken over after 3 s
        "SYMOE_MICROBATCH_WINDOW_MS": "5",
    }


@pytest.mark.embeddings
@pytest.mark.slow
def test_a_job_survives_a_killed_server_with_every_item_answered_once(
    serve_env: dict[str, str], tmp_path: Path
) -> None:
    headers = {
        "Authorization": f"Bearer {create_key(serve_env)}",
        "Idempotency-Key": "nightly-batch-1",
    }
    questions = [f"{MC} (variant {i})" for i in range(40)]
    body = {"questions": questions, "k": 2, "aggregation": "vote"}
    log = tmp_path / "serve.log"

    with serve(serve_env, log) as (client, proc):
        response = client.post("/v1/jobs", json=body, headers=headers)
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        # a client that reads one event and hangs up changes nothing for the job
        with client.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers) as stream:
            first = next(line for line in stream.iter_lines() if line.startswith("event:"))
            assert first == "event: progress"

        def progressed() -> bool:
            done = client.get(f"/v1/jobs/{job_id}", headers=headers).json()["completed"]
            return bool(done >= 4)

        wait_for(progressed, "a first chunk", proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    # what the dead server left: a running job, whole chunks answered, nothing half-written
    [(status, completed)] = db_rows(
        serve_env, "select status, completed from jobs where id = ?", job_id
    )
    before = dict(
        db_rows(
            serve_env,
            "select \"index\", query_id from job_items where job_id = ? and status = 'done'",
            job_id,
        )
    )
    assert status == "running", "killed mid-job (raise delay_s if this machine is very fast)"
    assert 0 < completed < len(questions) and completed % 4 == 0
    assert len(before) == completed
    assert db_rows(serve_env, "select count(*) from queries") == [(completed,)]

    with serve(serve_env, log) as (client, proc):
        # the retried submit (same Idempotency-Key) finds the job instead of making another
        retried = client.post("/v1/jobs", json=body, headers=headers)
        assert retried.status_code == 200 and retried.json()["id"] == job_id

        def finished() -> dict[str, Any] | None:
            job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
            return job if job["status"] in ("done", "failed", "cancelled") else None

        job = wait_for(finished, "the job to finish", proc)
        events = client.get(f"/v1/jobs/{job_id}/events", headers=headers).text
        assert "event: done" in events

    assert job["status"] == "done" and job["completed"] == len(questions), log.read_text()
    items = job["items"]
    assert [i["index"] for i in items] == list(range(len(questions)))
    assert [i["question"] for i in items] == questions
    assert all(i["status"] == "done" and i["extracted"] == "B" for i in items)
    # answered before the kill: kept as they were; every answer has its own stored trace
    assert {i["index"]: i["query_id"] for i in items if i["index"] in before} == before
    query_ids = [i["query_id"] for i in items]
    assert len(set(query_ids)) == len(questions)
    stored = db_rows(serve_env, "select id, question from queries")
    assert sorted(stored) == sorted(zip(query_ids, questions, strict=True))
    assert db_rows(serve_env, "select count(*) from jobs") == [(1,)]
    assert "Traceback" not in log.read_text()
