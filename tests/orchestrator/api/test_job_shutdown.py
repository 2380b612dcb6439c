"""A server stopped while a job's chunk cannot be interrupted (an in-process generation): the
job goes back to the queue once the grace period is over, the late chunk stores nothing, and
the next server answers every item once. (The e2e test stops a Celery-backed `symoe serve`.)"""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from orchestrator.api.app import create_app
from orchestrator.db.models import JobRow, QueryRow
from orchestrator.plan import BatchOptions, Query
from orchestrator.settings import Settings
from orchestrator.trace import BatchReport

from .conftest import MC, ScriptedDeployment
from .test_jobs import finished, wait_for


def test_a_stop_requeues_a_job_whose_chunk_is_still_running(api_settings: Settings) -> None:
    settings = api_settings.model_copy(update={"api_shutdown_grace_s": 0.2})
    questions = [f"{MC} (variant {i})" for i in range(3)]
    release = threading.Event()
    started = threading.Event()
    with TestClient(create_app(deployment=ScriptedDeployment(settings))) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        headers = {"Authorization": f"Bearer {services.keys.create('u', 'user').key}"}
        real = services.answering

        class Uninterruptible:
            def answer(
                self, queries: list[Query], options: BatchOptions, **kw: object
            ) -> BatchReport:
                started.set()
                release.wait()
                return real.answer(queries, options, **kw)  # type: ignore[no-any-return]

        services.jobs._answering = Uninterruptible
        job_id = client.post("/v1/jobs", json={"questions": questions}, headers=headers).json()[
            "id"
        ]
        wait_for(started.is_set, "the chunk to start")
        busy = services.jobs._thread
        sessions = services.deployment.stores.sessions
    # the app has stopped; its executor thread is still in the chunk
    with sessions() as session:
        assert session.scalar(select(JobRow.status).where(JobRow.id == job_id)) == "queued"
    release.set()  # the late chunk finds its job no longer running and stores nothing
    busy.join(timeout=60)
    assert not busy.is_alive()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(QueryRow)) == 0

    with TestClient(create_app(deployment=ScriptedDeployment(settings))) as client:
        body = finished(client, job_id, headers)
    assert body["status"] == "done" and body["completed"] == len(questions)
    assert all(i["status"] == "done" and i["extracted"] == "B" for i in body["items"])
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(QueryRow)) == len(questions)
