"""/v1/jobs: submit, read, stream, cancel; ownership, idempotent submits, bad input, failure,
and recovery of a job that a stopped server left running."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from orchestrator.api.app import create_app
from orchestrator.db.models import JobItemRow, JobRow, QueryRow
from orchestrator.settings import Settings

from .conftest import (
    DATABASES,
    MC,
    ScriptedDeployment,
    database,
    new_key,
    scripted_experts,
    scripted_settings,
)

DEADLINE_S = 60.0


def wait_for(predicate: Callable[[], Any], what: str) -> Any:
    """Poll until `predicate` returns something truthy; fail after a generous deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def job(client: TestClient, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(f"/v1/jobs/{job_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def finished(client: TestClient, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    return wait_for(  # type: ignore[no-any-return]
        lambda: (
            (b := job(client, job_id, headers))["status"] in ("done", "failed", "cancelled") and b
        ),
        f"job {job_id} to finish",
    )


def read_events(client: TestClient, job_id: str, headers: dict[str, str]) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    name = ""
    with client.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                events.append((name, json.loads(line.partition(":")[2])))
    return events


def slow_client(api_settings: Settings, tmp_path: Path, **updates: Any) -> TestClient:
    """An app whose experts take `delay_s` per call, answering one question per chunk."""
    experts = scripted_experts()
    for expert in experts:
        expert["options"] = {**expert["options"], "delay_s": 0.05}  # type: ignore[dict-item]
    experts_file = tmp_path / "slow-experts.yaml"
    experts_file.write_text(yaml.safe_dump({"experts": experts}))
    settings = api_settings.model_copy(
        update={"experts_file": experts_file, "api_job_chunk_size": 1, **updates}
    )
    return TestClient(create_app(deployment=ScriptedDeployment(settings)))


@pytest.fixture
def slow(api_settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    with slow_client(api_settings, tmp_path) as client:
        yield client


def questions(n: int) -> list[str]:
    return [f"{MC} (variant {i})" for i in range(n)]


# -- the happy path ---------------------------------------------------------------------------


def test_a_job_is_accepted_at_once_and_answers_every_item(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    response = client.post(
        "/v1/jobs",
        json={"questions": questions(10), "k": 2, "aggregation": "vote"},
        headers=user_headers,
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert len(accepted["id"]) == 32 and accepted["total"] == 10
    assert accepted["status"] in ("queued", "running") and accepted["created_at"]

    body = finished(client, accepted["id"], user_headers)
    assert body["status"] == "done" and body["completed"] == 10 and body["error"] is None
    assert [i["index"] for i in body["items"]] == list(range(10))
    assert all(i["status"] == "done" and i["extracted"] == "B" for i in body["items"])
    store = client.app.state.services.deployment.stores.traces  # type: ignore[attr-defined]
    for item in body["items"]:
        trace = store.get_trace(item["query_id"])
        assert trace is not None and trace.question == item["question"]
        assert len(trace.recruitment.drawn) == 2
    paged = client.get(f"/v1/jobs/{accepted['id']}?offset=8&limit=5", headers=user_headers).json()
    assert paged["offset"] == 8 and [i["index"] for i in paged["items"]] == [8, 9]
    metrics = client.get("/metrics", headers=user_headers).text
    assert "symoe_queue_depth 0.0" in metrics


def test_events_stream_progress_then_done(slow: TestClient) -> None:
    headers = {"Authorization": f"Bearer {new_key(slow, 'user')}"}
    job_id = slow.post("/v1/jobs", json={"questions": questions(4)}, headers=headers).json()["id"]
    events = read_events(slow, job_id, headers)
    names = [name for name, _ in events]
    assert names[-1] == "done" and set(names[:-1]) == {"progress"}
    counts = [data["completed"] for name, data in events if name == "progress"]
    assert counts == sorted(set(counts)) and counts[-1] == 4, counts
    assert events[-1][1] == {
        "id": job_id,
        "status": "done",
        "total": 4,
        "completed": 4,
        "error": None,
    }
    # a finished job streams its last state and closes at once
    assert [n for n, _ in read_events(slow, job_id, headers)] == ["progress", "done"]


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"questions": []}, 422, "questions"),
        ({}, 422, "questions"),
        ({"questions": "one"}, 422, "questions"),
        ({"questions": [MC, ""]}, 422, "questions.1"),
        ({"questions": [MC, "   "]}, 422, "questions.1: must not be blank"),
        ({"questions": [MC] * 4}, 422, "exceed the limit of 3 per job"),
        ({"questions": [MC], "k": 9}, 400, "exceeds the budget of 8 experts"),
        ({"questions": [MC], "max_tokens": 100_000}, 400, "max_tokens"),
        ({"questions": [MC], "experts": ["nope"]}, 404, "unknown expert 'nope'"),
        ({"questions": [MC], "aggregation": "magic"}, 422, "aggregation"),
        ({"questions": [MC], "surprise": 1}, 422, "surprise"),
    ],
)
def test_bad_input_gets_a_4xx_and_queues_nothing(
    api_settings: Settings, body: object, status: int, fragment: str
) -> None:
    settings = api_settings.model_copy(update={"api_max_job_questions": 3})
    with TestClient(create_app(deployment=ScriptedDeployment(settings))) as client:
        headers = {"Authorization": f"Bearer {new_key(client, 'user')}"}
        response = client.post("/v1/jobs", json=body, headers=headers)
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert fragment in error["message"] and error["type"]
        stores = client.app.state.services.deployment.stores  # type: ignore[attr-defined]
        with stores.sessions() as session:
            assert session.scalar(select(func.count()).select_from(JobRow)) == 0


def test_jobs_need_a_key_and_unknown_ids_are_404(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    assert client.post("/v1/jobs", json={"questions": [MC]}).status_code == 401
    assert client.get("/v1/jobs/abc").status_code == 401
    assert client.get("/v1/jobs/abc/events").status_code == 401
    assert client.delete("/v1/jobs/abc").status_code == 401
    for method, path in (("GET", "abc"), ("GET", "abc/events"), ("DELETE", "abc")):
        response = client.request(method, f"/v1/jobs/{path}", headers=user_headers)
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["type"] == "not_found_error" and error["code"] == "job_not_found"
        assert "no job with id 'abc'" in error["message"]


@pytest.mark.parametrize("kind", DATABASES)
def test_an_offset_past_the_items_index_range_is_a_422(kind: str, tmp_path: Path) -> None:
    """It reached the database unbounded: OverflowError on SQLite, DataError on PostgreSQL."""
    with database(kind) as url:
        settings = scripted_settings(tmp_path, database_url=url)
        with TestClient(create_app(deployment=ScriptedDeployment(settings))) as client:
            headers = {"Authorization": f"Bearer {new_key(client, 'user')}"}
            created = client.post("/v1/jobs", json={"questions": [MC]}, headers=headers).json()
            finished(client, created["id"], headers)
            for offset in (2**63, 2**31):
                url_ = f"/v1/jobs/{created['id']}?offset={offset}"
                response = client.get(url_, headers=headers)
                assert response.status_code == 422, response.text
                assert "offset" in response.json()["error"]["message"]
            last = client.get(f"/v1/jobs/{created['id']}?offset={2**31 - 1}", headers=headers)
            assert last.status_code == 200 and last.json()["items"] == []


def test_a_job_belongs_to_its_key_and_admins_see_all(
    client: TestClient, user_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    job_id = client.post("/v1/jobs", json={"questions": [MC]}, headers=user_headers).json()["id"]
    other = {"Authorization": f"Bearer {new_key(client, 'user')}"}
    assert client.get(f"/v1/jobs/{job_id}", headers=other).status_code == 404
    assert client.get(f"/v1/jobs/{job_id}/events", headers=other).status_code == 404
    assert client.delete(f"/v1/jobs/{job_id}", headers=other).status_code == 404
    assert finished(client, job_id, admin_headers)["status"] == "done"
    assert finished(client, job_id, user_headers)["status"] == "done"


# -- idempotent submits -----------------------------------------------------------------------


def test_a_retried_submit_with_an_idempotency_key_returns_the_same_job(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    body = {"questions": questions(3), "aggregation": "vote"}
    retry = {**user_headers, "Idempotency-Key": "b-42"}
    first = client.post("/v1/jobs", json=body, headers=retry)
    second = client.post("/v1/jobs", json=body, headers=retry)
    assert first.status_code == 202 and second.status_code == 200
    assert second.json()["id"] == first.json()["id"]

    changed = client.post("/v1/jobs", json={**body, "k": 2}, headers=retry)
    assert changed.status_code == 409
    error = changed.json()["error"]
    assert error["code"] == "idempotency_key_reused" and first.json()["id"] in error["message"]

    other_key = {"Authorization": f"Bearer {new_key(client, 'user')}", "Idempotency-Key": "b-42"}
    theirs = client.post("/v1/jobs", json=body, headers=other_key)
    assert theirs.status_code == 202 and theirs.json()["id"] != first.json()["id"]
    plain = [client.post("/v1/jobs", json=body, headers=user_headers) for _ in range(2)]
    assert plain[0].json()["id"] != plain[1].json()["id"]

    stores = client.app.state.services.deployment.stores  # type: ignore[attr-defined]
    with stores.sessions() as session:
        assert session.scalar(select(func.count()).select_from(JobRow)) == 4
        assert session.scalar(select(func.count()).select_from(JobItemRow)) == 12
    # the replay after completion still returns the job, now done
    finished(client, first.json()["id"], user_headers)
    again = client.post("/v1/jobs", json=body, headers=retry)
    assert again.status_code == 200 and again.json()["status"] == "done"


def test_a_blank_or_oversized_idempotency_key_is_refused(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    for value in (" ", "x" * 256):
        headers = {**user_headers, "Idempotency-Key": value}
        response = client.post("/v1/jobs", json={"questions": [MC]}, headers=headers)
        assert response.status_code == 422, response.text
        assert "idempotency" in response.json()["error"]["message"].lower()


# -- cancel -----------------------------------------------------------------------------------


def test_cancel_stops_a_running_job_between_chunks(slow: TestClient) -> None:
    headers = {"Authorization": f"Bearer {new_key(slow, 'user')}"}
    job_id = slow.post("/v1/jobs", json={"questions": questions(200)}, headers=headers).json()["id"]
    wait_for(lambda: job(slow, job_id, headers)["completed"] >= 1, "a first answer")
    response = slow.delete(f"/v1/jobs/{job_id}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    completed = response.json()["completed"]
    assert 1 <= completed < 200

    # the executor notices between chunks and moves on; nothing changes after the cancel
    next_id = slow.post("/v1/jobs", json={"questions": [MC]}, headers=headers).json()["id"]
    assert finished(slow, next_id, headers)["status"] == "done"
    body = job(slow, job_id, headers)
    assert body["status"] == "cancelled" and body["completed"] == completed
    statuses = [i["status"] for i in body["items"]]
    assert statuses == ["done"] * completed + ["cancelled"] * (200 - completed)
    assert [n for n, _ in read_events(slow, job_id, headers)] == ["progress", "cancelled"]

    again = slow.delete(f"/v1/jobs/{job_id}", headers=headers)
    assert again.status_code == 409
    assert "already cancelled" in again.json()["error"]["message"]
    metrics = slow.get("/metrics", headers=headers).text
    assert "symoe_queue_depth 0.0" in metrics


def test_cancel_a_queued_job_and_refuse_to_cancel_a_done_one(slow: TestClient) -> None:
    headers = {"Authorization": f"Bearer {new_key(slow, 'user')}"}
    busy = slow.post("/v1/jobs", json={"questions": questions(100)}, headers=headers).json()["id"]
    waiting = slow.post("/v1/jobs", json={"questions": questions(3)}, headers=headers).json()
    assert waiting["status"] == "queued"
    cancelled = slow.delete(f"/v1/jobs/{waiting['id']}", headers=headers).json()
    assert cancelled["status"] == "cancelled" and cancelled["completed"] == 0
    items = job(slow, waiting["id"], headers)["items"]
    assert [i["status"] for i in items] == ["cancelled"] * 3
    assert all(i["answer"] is None for i in items)
    assert slow.delete(f"/v1/jobs/{busy}", headers=headers).status_code == 200

    done_id = slow.post("/v1/jobs", json={"questions": [MC]}, headers=headers).json()["id"]
    finished(slow, done_id, headers)
    response = slow.delete(f"/v1/jobs/{done_id}", headers=headers)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "job_finished" and "already done" in error["message"]


# -- failure and recovery ---------------------------------------------------------------------


def test_a_chunk_that_raises_fails_the_job_and_its_remaining_items(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    class Broken:
        def answer(self, *_: object, **__: object) -> None:
            raise RuntimeError("the runner fell over")

    client.app.state.services.jobs._answering = Broken  # type: ignore[attr-defined]
    job_id = client.post("/v1/jobs", json={"questions": questions(3)}, headers=user_headers).json()[
        "id"
    ]
    body = finished(client, job_id, user_headers)
    assert body["status"] == "failed" and "the runner fell over" in body["error"]
    assert all(i["status"] == "failed" and i["error"] for i in body["items"])
    assert [n for n, _ in read_events(client, job_id, user_headers)] == ["progress", "failed"]


def test_a_job_left_running_is_resumed_without_redoing_answered_items(
    api_settings: Settings,
) -> None:
    """What a server killed mid-job leaves behind: a 'running' job with some items answered
    and a lease run out. The next server takes it over and answers only the rest (the e2e
    test kills a real one)."""
    with TestClient(create_app(deployment=ScriptedDeployment(api_settings))) as client:
        key = client.app.state.services.keys.create("u", "user")  # type: ignore[attr-defined]
        headers = {"Authorization": f"Bearer {key.key}"}
        services = client.app.state.services  # type: ignore[attr-defined]
        sessions = services.deployment.stores.sessions
        executor = client.app.state.services.jobs  # type: ignore[attr-defined]
        executor.close()  # no executor: the job stays where we put it
        job_id = client.post("/v1/jobs", json={"questions": questions(5)}, headers=headers).json()[
            "id"
        ]
        with sessions.begin() as session:
            job = session.get(JobRow, job_id)
            assert job is not None
            # its server died a minute ago: no heartbeat since, the lease has run out
            job.status, job.completed = "running", 2
            job.updated_at = datetime.now(UTC) - timedelta(seconds=60)
            for index in (0, 1):
                item = session.get(JobItemRow, (job_id, index))
                assert item is not None
                item.status, item.answer, item.query_id = "done", "kept", f"old-{index}"

    with TestClient(create_app(deployment=ScriptedDeployment(api_settings))) as client:
        body = finished(client, job_id, headers)
        assert body["status"] == "done" and body["completed"] == 5
        items = body["items"]
        assert [(i["answer"], i["query_id"]) for i in items[:2]] == [
            ("kept", "old-0"),
            ("kept", "old-1"),
        ]
        assert all(i["status"] == "done" and i["extracted"] == "B" for i in items[2:])
        with sessions() as session:  # only the three unanswered items were computed
            assert session.scalar(select(func.count()).select_from(QueryRow)) == 3


def test_a_live_executors_job_is_not_taken_over_until_its_lease_runs_out(
    api_settings: Settings,
) -> None:
    """A second API process on the same database: it leaves a job alone while the executor
    holding it beats, and takes it over once the beats stop for longer than the lease."""
    settings = api_settings.model_copy(update={"api_job_lease_s": 5.0})
    with TestClient(create_app(deployment=ScriptedDeployment(settings))) as client:
        key = client.app.state.services.keys.create("u", "user")  # type: ignore[attr-defined]
        headers = {"Authorization": f"Bearer {key.key}"}
        services = client.app.state.services  # type: ignore[attr-defined]
        services.jobs.close()  # this "other process" holds the job but does no work
        job_id = client.post("/v1/jobs", json={"questions": questions(3)}, headers=headers).json()[
            "id"
        ]
        store = services.jobs.store
        assert store.claim_next(5.0).summary.id == job_id  # held, as a live executor would

        with TestClient(create_app(deployment=ScriptedDeployment(settings))) as second:
            for _ in range(6):  # three seconds of beats: the second server must keep off
                store.beat(job_id)
                time.sleep(0.5)
                status = second.get(f"/v1/jobs/{job_id}", headers=headers).json()
                assert status["status"] == "running" and status["completed"] == 0
            body = finished(second, job_id, headers)  # beats stopped: taken over
        assert body["status"] == "done" and body["completed"] == 3
