"""/admin/jobs: jobs submitted through POST /v1/jobs listed newest first with status and
progress, paged and filtered; a job's page with its items; its progress over server-sent
events with the dashboard session; Cancel refused without the CSRF token and, with it,
cancelling the job as DELETE /v1/jobs/{id} does."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator.settings import Settings
from tests.orchestrator.api.conftest import MC, new_key
from tests.orchestrator.api.dashboard.support import log_in
from tests.orchestrator.api.test_jobs import finished, questions, slow_client, wait_for


def submit(client: TestClient, headers: dict[str, str], n: int) -> str:
    body = {"questions": questions(n), "k": 2, "aggregation": "vote"}
    response = client.post("/v1/jobs", json=body, headers=headers)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-job="([0-9a-f]+)"', html)


def events(client: TestClient, job_id: str) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    name = ""
    with client.stream("GET", f"/admin/jobs/{job_id}/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                found.append((name, json.loads(line.partition(":")[2])))
    return found


@pytest.fixture
def slow(api_settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    with slow_client(api_settings, tmp_path) as client:
        yield client


def test_jobs_are_listed_with_progress_paged_and_filtered(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    made = [submit(client, user_headers, n) for n in (1, 2, 3)]
    for job_id in made:
        assert finished(client, job_id, user_headers)["status"] == "done"
    log_in(client, new_key(client, "admin"))
    page = client.get("/admin/jobs")
    assert page.status_code == 200 and rows(page.text) == made[::-1]
    assert "3 jobs" in page.text and '<progress max="3" value="3">' in page.text
    assert "test-user" in page.text  # the submitting key's name
    first = client.get("/admin/jobs?limit=2").text
    assert rows(first) == made[:0:-1] and 'href="/admin/jobs?offset=2&amp;limit=2"' in first
    assert rows(client.get("/admin/jobs?offset=2&limit=2").text) == [made[0]]
    assert rows(client.get("/admin/jobs?status=done").text) == made[::-1]
    assert rows(client.get("/admin/jobs?status=cancelled").text) == []
    for bad, says in [("status=lost", "status: one of"), ("offset=-1", "offset: a whole")]:
        refused = client.get(f"/admin/jobs?{bad}")
        assert refused.status_code == 400 and says in refused.text

    detail = client.get(f"/admin/jobs/{made[2]}").text
    assert 'id="job-status">done<' in detail and "3 of 3" in detail
    assert 'data-events="' not in detail and "Cancel job" not in detail  # finished: not live
    items = re.findall(r'<tr data-item="(\d+)" class="item-done">', detail)
    assert items == ["0", "1", "2"]
    trace = re.search(r'<a href="(/admin/queries/[0-9a-f]+)">trace</a>', detail)
    assert trace is not None and client.get(trace.group(1)).status_code == 200
    assert client.get("/admin/jobs/nope").status_code == 404


def test_events_stream_progress_then_the_end(slow: TestClient) -> None:
    user = {"Authorization": f"Bearer {new_key(slow, 'user')}"}
    job_id = submit(slow, user, 3)
    log_in(slow, new_key(slow, "admin"))
    streamed = events(slow, job_id)
    names = [name for name, _ in streamed]
    assert names[-1] == "done" and set(names[:-1]) == {"progress"}
    counts = [data["completed"] for name, data in streamed if name == "progress"]
    assert counts == sorted(set(counts)) and counts[-1] == 3
    assert streamed[-1][1]["id"] == job_id and streamed[-1][1]["total"] == 3
    assert slow.get("/admin/jobs/nope/events").status_code == 404


def test_cancel_needs_the_csrf_token_and_cancels_like_the_api(slow: TestClient) -> None:
    user = {"Authorization": f"Bearer {new_key(slow, 'user')}"}
    job_id = submit(slow, user, 200)
    token = log_in(slow, new_key(slow, "admin"))
    wait_for(lambda: slow.get(f"/v1/jobs/{job_id}", headers=user).json()["completed"] >= 1, "work")
    live = slow.get(f"/admin/jobs/{job_id}").text
    assert f'data-events="/admin/jobs/{job_id}/events"' in live and "Cancel job" in live

    for data in ({}, {"csrf_token": "wrong"}):
        refused = slow.post(f"/admin/jobs/{job_id}/cancel", data=data)
        assert refused.status_code == 403 and "CSRF" in refused.text
    assert slow.get(f"/v1/jobs/{job_id}", headers=user).json()["status"] == "running"

    done = slow.post(f"/admin/jobs/{job_id}/cancel", data={"csrf_token": token})
    assert done.status_code == 200 and 'id="job-status">cancelled<' in done.text
    assert "cancelled" in done.text and "Cancel job" not in done.text
    body = slow.get(f"/v1/jobs/{job_id}?limit=200", headers=user).json()
    assert body["status"] == "cancelled" and 1 <= body["completed"] < 200
    assert [i["status"] for i in body["items"]].count("cancelled") == 200 - body["completed"]
    assert [name for name, _ in events(slow, job_id)] == ["progress", "cancelled"]

    again = slow.post(f"/admin/jobs/{job_id}/cancel", data={"csrf_token": token})
    assert again.status_code == 409 and "already cancelled" in again.text
    unknown = slow.post("/admin/jobs/nope/cancel", data={"csrf_token": token})
    assert unknown.status_code == 404 and "no job with id" in unknown.text
    # the executor moved on: a new job is answered
    assert finished(slow, submit(slow, user, 1), user)["status"] == "done"
    assert MC in slow.get("/admin/jobs/" + job_id).text  # its questions listed
