"""/admin/workers: in process, the server's own model pool after a real answer (and no remote
workers); with the Celery runner, a real `symoe worker` on real Redis with the expert it
hosts, its pool after a group ran there, and the depth of a queue no worker consumes; a
broker that does not answer is said on the page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orchestrator.api.app import create_app
from orchestrator.scheduler import Group, StageRequest
from tests.orchestrator.api.conftest import MC, ScriptedDeployment, new_key, scripted_settings
from tests.orchestrator.api.dashboard.support import log_in
from workers.types import GenerationParams, ModelSpec, Prompt


def row(html: str, attribute: str, name: str) -> str:
    found = re.search(rf'<tr data-{attribute}="{re.escape(name)}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, f"no row {name!r}"
    return found.group(1)


def cells(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", " ", c).split()[0] if c.strip() else ""
        for c in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)
    ]


def test_in_process_the_page_shows_the_server_s_own_pool(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    log_in(client, new_key(client, "admin"))
    before = client.get("/admin/workers")
    assert before.status_code == 200
    assert "There are no remote workers" in before.text and "No model loaded yet" in before.text
    answered = client.post(
        "/v1/answers", json={"question": MC, "k": 2, "aggregation": "vote"}, headers=user_headers
    )
    assert answered.status_code == 200, answered.text
    drawn = answered.json()["trace"]["recruitment"]["drawn"]
    page = client.get("/admin/workers").text
    assert "Runner: <strong>inprocess</strong>" in page
    for name in set(drawn):
        assert cells(row(page, "model", name)) == [name, "yes", "1"]
    resident = re.search(r'<strong class="resident-count">(\d+)</strong>', page)
    assert resident and int(resident.group(1)) >= len(set(drawn))


def test_a_broker_that_does_not_answer_is_said_on_the_page(tmp_path: Path) -> None:
    settings = scripted_settings(
        tmp_path, runner="celery", broker_url="redis://127.0.0.1:1/9",
        result_backend="redis://127.0.0.1:1/10",
    )  # fmt: skip
    with TestClient(create_app(deployment=ScriptedDeployment(settings))) as client:
        log_in(client, new_key(client, "admin"))
        page = client.get("/admin/workers")
    assert page.status_code == 200
    assert re.search(r'id="problem">the broker does not answer: [^<]*refused', page.text)
    assert "redis://127.0.0.1:1/9" in page.text


@pytest.mark.redis
def test_with_celery_a_real_worker_shows_its_experts_pool_and_queues(tmp_path: Path) -> None:
    from tests.celery_support import (
        BACKEND,
        BROKER,
        client_app,
        flush_redis,
        running_worker,
        scripted,
        worker_env,
    )
    from workers.celery_app import TASK_NAME

    flush_redis()
    (tmp_path / "worker").mkdir()
    env = worker_env(tmp_path / "worker", [scripted("e0"), scripted("e1")])
    settings = scripted_settings(
        tmp_path, runner="celery", broker_url=BROKER, result_backend=BACKEND
    )
    probe = client_app()
    try:
        with (
            running_worker(probe, env, tmp_path / "worker.log", "--experts", "e0") as worker,
            TestClient(create_app(deployment=ScriptedDeployment(settings))) as client,
        ):
            log_in(client, new_key(client, "admin"))
            # one group through the server's runner: the worker loads e0
            spec = ModelSpec.model_validate(
                {k: v for k, v in scripted("e0").items() if k != "roles"}
            )
            group = Group(
                stage="experts",
                spec=spec,
                params=GenerationParams(max_tokens=8),
                requests=[StageRequest(key="q", expert="e0", prompt=Prompt.user(MC))],
            )
            (result,) = client.app.state.services.runner.run_groups([group])  # type: ignore[attr-defined]
            assert result.error is None
            # a message for e1, whose queue no worker consumes: it waits there
            probe.send_task(TASK_NAME, args=[{}], queue="expert.e1")
            page = client.get("/admin/workers").text
        host = re.search(rf'<tr data-worker="(symoe-{worker.pid}@[^"]+)"', page)
        assert host, page
        hosted = cells(row(page, "worker", host.group(1)))
        assert hosted[1:7] == ["answering", "e0", "expert.e0", "e0", "1", "0"]
        assert cells(row(page, "queue", "expert.e0")) == ["expert.e0", "0", host.group(1)]
        assert cells(row(page, "queue", "expert.e1")) == ["expert.e1", "1", "no"]
        assert cells(row(page, "queue", "workflows"))[:2] == ["workflows", "0"]
        assert "the broker does not answer" not in page
    finally:
        probe.close()
        flush_redis()
