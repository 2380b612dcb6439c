"""/v1/workflows on the real app, on SQLite and PostgreSQL: a workflow file of the test's own
(through SYMOE_WORKFLOWS_DIR) whose planner is a scripted expert and whose tools are the real
numpy audio tools, measured by the real supervisors and mixed by `soundscape_mix`, so a run
really writes a WAV, a timeline and a waveform plot. Started with a 202, followed by polling
and by server-sent events, read back with its steps, attempts and scores, its artifacts
downloaded; bad input, keys, a failing planner and a run that dies outside any step."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from orchestrator.api.app import create_app
from orchestrator.api.errors import ApiError
from orchestrator.api.workflows.executor import WorkflowExecutor
from orchestrator.db.workflows import WorkflowStore
from orchestrator.workflows.service import BUILT_IN

from .conftest import (
    DATABASES,
    ScriptedDeployment,
    database,
    new_key,
    scripted_experts,
    scripted_settings,
)
from .test_jobs import wait_for

PLAN = {
    "events": [
        {"type": "sfx", "start": 0, "end": 2, "description": "rain on a window", "volume": -25},
        {"type": "music", "start": 1, "end": 3, "description": "a calm piano", "volume": -30},
    ]
}
SCHEMA = {
    "type": "object",
    "required": ["events"],
    "properties": {
        "events": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["type", "start", "end", "description", "volume"],
                "properties": {
                    "type": {"type": "string", "enum": ["sfx", "music"]},
                    "start": {"type": "integer"},
                    "end": {"type": "integer"},
                    "description": {"type": "string"},
                    "volume": {"type": "integer"},
                },
            },
        }
    },
}
INPUT_MAX_CHARS = 200
RAW_NONSENSE = "Sorry, no plan today."
WAV_SIGNATURE = (b"RIFF", b"WAVE")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def workflow_file(name: str, planner: str) -> dict[str, Any]:
    supervised = {"supervisors": ["duration", "loudness", "signal"]}
    return {
        "name": name,
        "description": f"{name}: a scene's sound from a scripted plan",
        "input_max_chars": INPUT_MAX_CHARS,
        "roles": {
            "planner": {
                "expert": planner,
                "prompt": "Plan the sound of this scene: {input}",
                "max_tokens": 200,
                "asks": 2,
            }
        },
        "subtasks": {
            "items": "events",
            "schema": SCHEMA,
            "types": {
                "sfx": {"candidates": ["numpy_sfx"], **supervised},
                "music": {"candidates": ["numpy_music"], **supervised},
            },
        },
        "thresholds": {"duration": 0.7, "loudness": 0.7, "clipping": 0.7, "silence": 0.7},
        "candidates_per_task": 1,
        "attempts_per_candidate": 2,
        "timeout_s": 60,
        "parallel": 2,
        "assembler": "soundscape_mix",
        "steps": [
            {"name": "plan", "kind": "plan"},
            {"name": "generate", "kind": "tasks", "after": ["plan"]},
            {"name": "mix", "kind": "assemble", "after": ["generate"]},
        ],
    }


def experts() -> list[dict[str, Any]]:
    planner = {"name": "planner", "backend": "scripted", "model": "scripted/planner"}
    babbler = {"name": "babbler", "backend": "scripted", "model": "scripted/babbler"}
    # `default` goes through str.format ({name}), so the plan's braces are doubled
    escaped = json.dumps(PLAN).replace("{", "{{").replace("}", "}}")
    return [
        *scripted_experts(),
        {**planner, "options": {"default": escaped}},
        {**babbler, "options": {"default": RAW_NONSENSE}},
    ]


@dataclass
class Api:
    client: TestClient
    user: dict[str, str]
    admin: dict[str, str]
    data_dir: Path

    def start(self, name: str = "scene", text: str = "Rain at night, a piano.") -> str:
        response = self.client.post(
            f"/v1/workflows/{name}/runs", json={"input": text}, headers=self.user
        )
        assert response.status_code == 202, response.text
        return str(response.json()["run_id"])

    def run(self, run_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.client.get(f"/v1/workflows/runs/{run_id}", headers=headers or self.user)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def finished(self, run_id: str) -> dict[str, Any]:
        return wait_for(  # type: ignore[no-any-return]
            lambda: (r := self.run(run_id))["status"] in ("succeeded", "failed") and r,
            f"workflow run {run_id} to finish",
        )

    def events(self, run_id: str) -> list[tuple[str, Any]]:
        events: list[tuple[str, Any]] = []
        name = ""
        url = f"/v1/workflows/runs/{run_id}/events"
        with self.client.stream("GET", url, headers=self.user) as response:
            assert response.status_code == 200, response.read()
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if line.startswith("event:"):
                    name = line.partition(":")[2].strip()
                elif line.startswith("data:"):
                    events.append((name, json.loads(line.partition(":")[2])))
        return events


@pytest.fixture(scope="module", params=DATABASES)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("workflows")
    folder = tmp / "workflows"
    folder.mkdir()
    for name, planner in (("scene", "planner"), ("babble", "babbler")):
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(workflow_file(name, planner)))
    (folder / "broken.yaml").write_text("name: broken\nsteps: []\n")
    experts_file = tmp / "workflow_experts.yaml"
    experts_file.write_text(yaml.safe_dump({"experts": experts()}))
    with database(request.param) as url:
        settings = scripted_settings(
            tmp, database_url=url, experts_file=experts_file, workflows_dir=folder
        )
        with TestClient(create_app(deployment=ScriptedDeployment(settings))) as client:
            user = {"Authorization": f"Bearer {new_key(client, 'user')}"}
            admin = {"Authorization": f"Bearer {new_key(client, 'admin')}"}
            yield Api(client, user, admin, settings.data_dir)


@pytest.fixture(scope="module")
def succeeded(api: Api) -> dict[str, Any]:
    """One run of `scene`, to its end."""
    run = api.finished(api.start())
    assert run["status"] == "succeeded", run
    return run


def test_the_workflows_are_listed_with_their_steps(api: Api) -> None:
    response = api.client.get("/v1/workflows", headers=api.user)
    assert response.status_code == 200, response.text
    listed = {w["name"]: w for w in response.json()}
    assert set(listed) == {p.stem for p in BUILT_IN.glob("*.yaml")} | {"scene", "babble", "broken"}
    scene = listed["scene"]
    assert scene["input_max_chars"] == INPUT_MAX_CHARS and scene["error"] is None
    assert [(s["name"], s["kind"], s["after"]) for s in scene["steps"]] == [
        ("plan", "plan", []),
        ("generate", "tasks", ["plan"]),
        ("mix", "assemble", ["generate"]),
    ]
    assert listed["soundscape"]["steps"][0]["name"] == "plan"
    # a broken file is listed with its error; the others still are
    assert "broken.yaml" in listed["broken"]["error"] and listed["broken"]["steps"] == []


def test_a_run_is_accepted_at_once_with_its_links(api: Api) -> None:
    response = api.client.post(
        "/v1/workflows/scene/runs", json={"input": "Rain at night."}, headers=api.user
    )
    assert response.status_code == 202, response.text
    body = response.json()
    run_id = body["run_id"]
    assert body["status"] == "pending"
    assert body["links"] == {
        "self": f"/v1/workflows/runs/{run_id}",
        "events": f"/v1/workflows/runs/{run_id}/events",
    }
    assert api.finished(run_id)["status"] == "succeeded"


def test_the_record_has_every_step_attempt_and_score(api: Api, succeeded: dict[str, Any]) -> None:
    steps = {s["key"]: s for s in succeeded["steps"]}
    assert set(steps) == {"plan", "generate", "generate:1-sfx", "generate:2-music", "mix"}
    for step in steps.values():
        assert step["status"] == "done" and step["error"] is None
        assert step["finished_at"] >= step["started_at"] and step["seconds"] >= 0
    assert steps["plan"]["output"]["asks"] == 1
    assert succeeded["input"] == "Rain at night, a piano." and succeeded["workflow"] == "scene"
    assert succeeded["finished_at"] is not None and succeeded["error"] is None

    attempts = succeeded["attempts"]
    assert {(a["task_id"], a["candidate"]) for a in attempts} == {
        ("1-sfx", "numpy_sfx"),
        ("2-music", "numpy_music"),
    }
    for attempt in attempts:
        assert attempt["error"] is None and attempt["seconds"] > 0
        dimensions = {s["dimension"] for s in attempt["scores"]}
        assert dimensions == {"duration", "loudness", "clipping", "silence"}
        assert all(0.0 <= s["value"] <= 1.0 and s["reason"] for s in attempt["scores"])
        artifact = attempt["artifact"]
        assert artifact["media_type"] == "audio/wav"
        assert (
            artifact["url"] == f"/v1/workflows/runs/{succeeded['id']}/artifacts/{artifact['path']}"
        )

    result = succeeded["result"]  # the mix step's output
    assert result["files"] == ["soundscape.wav", "timeline.json", "waveform.png"]
    assert result["duration_s"] == pytest.approx(3.0) and result["events"] == 2
    links = {a["path"]: a for a in succeeded["artifacts"]}
    assert list(links)[:3] == result["files"]
    assert {links[f]["media_type"] for f in result["files"]} == {
        "audio/wav",
        "application/json",
        "image/png",
    }
    assert {a["artifact"]["path"] for a in attempts} <= set(links)


def test_the_artifacts_download_with_their_media_types(api: Api, succeeded: dict[str, Any]) -> None:
    base = f"/v1/workflows/runs/{succeeded['id']}/artifacts"
    wav = api.client.get(f"{base}/soundscape.wav", headers=api.user)
    assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav"
    assert (wav.content[:4], wav.content[8:12]) == WAV_SIGNATURE
    assert len(wav.content) > 3 * 24_000 * 2  # 3 s of 16-bit samples at 24 kHz, mono

    png = api.client.get(f"{base}/waveform.png", headers=api.user)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(PNG_SIGNATURE)

    timeline = api.client.get(f"{base}/timeline.json", headers=api.user)
    assert timeline.headers["content-type"] == "application/json"
    assert [e["type"] for e in timeline.json()["events"]] == ["sfx", "music"]

    for link in succeeded["artifacts"]:  # every link the record gives works
        response = api.client.get(link["url"], headers=api.user)
        assert response.status_code == 200, link
        assert response.headers["content-type"].startswith(link["media_type"])


def test_no_path_leads_out_of_the_artifacts(api: Api, succeeded: dict[str, Any]) -> None:
    run_id = succeeded["id"]
    folder = api.data_dir / "workflows" / run_id / "artifacts"
    (folder.parent / "secret.txt").write_text("not an artifact")
    (api.data_dir / "outside.txt").write_text("not an artifact")
    (folder / "link.txt").symlink_to(folder.parent / "secret.txt")
    base = f"/v1/workflows/runs/{run_id}/artifacts"
    for path in (
        "..%2Fsecret.txt",
        "..%2F..%2F..%2Foutside.txt",
        "%2E%2E/secret.txt",
        "%2Fetc%2Fpasswd",
        "link.txt",  # a link inside that leads outside
        "",
        "nothing.wav",
    ):
        response = api.client.get(f"{base}/{path}", headers=api.user)
        assert response.status_code == 404, (path, response.text)
        assert "not an artifact" not in response.text
    # a run id is looked up, never joined to a path
    response = api.client.get(
        f"/v1/workflows/runs/..%2F{run_id}/artifacts/soundscape.wav", headers=api.user
    )
    assert response.status_code == 404


def test_an_unknown_workflow_is_404_naming_the_known_ones(api: Api) -> None:
    response = api.client.post(
        "/v1/workflows/nope/runs", json={"input": "a scene"}, headers=api.user
    )
    assert response.status_code == 404, response.text
    error = response.json()["error"]
    assert error["param"] == "name" and error["code"] == "unknown_workflow"
    assert "'nope'" in error["message"]
    assert all(n in error["message"] for n in ("scene", "babble", "soundscape"))


def test_an_input_over_the_workflows_limit_is_400_naming_the_field(api: Api) -> None:
    too_long = "x" * (INPUT_MAX_CHARS + 1)
    for text, fragment in ((too_long, f"at most {INPUT_MAX_CHARS}"), ("   ", "empty")):
        response = api.client.post(
            "/v1/workflows/scene/runs", json={"input": text}, headers=api.user
        )
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["param"] == "input" and error["message"].startswith("input:")
        assert fragment in error["message"]
    store = api.client.app.state.services.deployment.stores.workflows  # type: ignore[attr-defined]
    assert all(r.input["input"] not in (too_long, "   ") for r in store.list(limit=1000))
    response = api.client.post(
        "/v1/workflows/scene/runs", json={"input": "a", "extra": 1}, headers=api.user
    )
    assert response.status_code == 422 and response.json()["error"]["param"] == "extra"


def test_every_route_needs_a_key(api: Api, succeeded: dict[str, Any]) -> None:
    run = f"/v1/workflows/runs/{succeeded['id']}"
    for method, url in (
        ("GET", "/v1/workflows"),
        ("POST", "/v1/workflows/scene/runs"),
        ("GET", run),
        ("GET", f"{run}/events"),
        ("GET", f"{run}/artifacts/soundscape.wav"),
    ):
        response = api.client.request(method, url, json={"input": "a scene"})
        assert response.status_code == 401, (method, url)
        assert response.json()["error"]["code"] == "missing_api_key"


def test_a_run_is_seen_by_its_key_and_admins_only(api: Api, succeeded: dict[str, Any]) -> None:
    other = {"Authorization": f"Bearer {new_key(api.client, 'user')}"}
    run = f"/v1/workflows/runs/{succeeded['id']}"
    for url in (run, f"{run}/events", f"{run}/artifacts/soundscape.wav"):
        response = api.client.get(url, headers=other)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "workflow_run_not_found"
    assert api.run(succeeded["id"], headers=api.admin)["status"] == "succeeded"
    response = api.client.get("/v1/workflows/runs/0123456789abcdef", headers=api.user)
    assert response.status_code == 404 and response.json()["error"]["param"] == "run_id"


def test_the_events_follow_a_run_to_its_final_status(api: Api) -> None:
    run_id = api.start()
    events = api.events(run_id)  # opened while the run is pending or running
    names = [name for name, _ in events]
    assert names[-1] == "succeeded" and names.count("succeeded") == 1
    final = events[-1][1]
    assert final["run_id"] == run_id and final["result"]["files"][0] == "soundscape.wav"
    record = api.run(run_id)
    # every step's last state, and every attempt, was told once
    last_state = {data["key"]: data["status"] for name, data in events if name == "step"}
    assert last_state == {s["key"]: "done" for s in record["steps"]}
    told = [(d["task_id"], d["candidate"], d["number"]) for n, d in events if n == "attempt"]
    assert told == [(a["task_id"], a["candidate"], a["number"]) for a in record["attempts"]]
    assert all(d["scores"] for n, d in events if n == "attempt")
    # a finished run's stream tells its whole story at once, and ends the same way
    again = api.events(run_id)
    assert [n for n, _ in again].count("step") == len(record["steps"])
    assert again[-1] == ("succeeded", final)


def test_a_planner_without_a_plan_fails_the_run_keeping_its_raw_output(api: Api) -> None:
    run_id = api.start("babble")
    events = api.events(run_id)
    assert events[-1][0] == "failed"
    run = api.finished(run_id)
    assert run["status"] == "failed" and run["result"] is None
    assert run["error"].startswith("step 'plan' failed")
    (plan,) = run["steps"]
    assert plan["key"] == "plan" and plan["status"] == "failed"
    assert RAW_NONSENSE in plan["error"] and "not JSON" in plan["error"]
    assert run["attempts"] == [] and run["artifacts"] == []


class _DiesBetweenSteps:
    """An engine that starts a step, then fails outside the engine's own handling."""

    def __init__(self, store: WorkflowStore) -> None:
        self.store = store

    def run(self, run_id: str, input_text: str) -> object:
        self.store.set_status(run_id, "running")
        self.store.start_step(run_id, "plan", "plan")
        raise KeyError("a bug")


class _Blocks:
    def __init__(self, release: threading.Event) -> None:
        self.release = release
        self.started = threading.Event()

    def run(self, run_id: str, input_text: str) -> object:
        self.started.set()
        self.release.wait(timeout=30)
        return None


@pytest.fixture
def store(api: Api) -> WorkflowStore:
    return api.client.app.state.services.deployment.stores.workflows  # type: ignore[attr-defined, no-any-return]


def test_any_other_error_still_ends_the_run_failed(store: WorkflowStore) -> None:
    executor = WorkflowExecutor(store, workers=1)
    run_id = store.create_run("scene", "0" * 64, {"input": "x"})
    executor.submit(run_id, _DiesBetweenSteps(store), "x")
    executor.close(timeout_s=10)
    record = store.get(run_id)
    assert record.status == "failed" and record.error == "internal error: KeyError: 'a bug'"
    assert [(s.key, s.status) for s in record.steps] == [("plan", "failed")]  # none left running


def test_a_stop_takes_no_new_run_and_leaves_queued_ones_pending(store: WorkflowStore) -> None:
    executor = WorkflowExecutor(store, workers=1)
    release = threading.Event()
    first, queued = (store.create_run("scene", "0" * 64, {"input": "x"}) for _ in range(2))
    blocking = _Blocks(release)
    executor.submit(first, blocking, "x")
    executor.submit(queued, _Blocks(release), "x")
    assert blocking.started.wait(timeout=10)
    executor.stop()
    with pytest.raises(ApiError) as refused:
        executor.submit(store.create_run("scene", "0" * 64, {"input": "x"}), blocking, "x")
    assert refused.value.status == 503
    left = store.get(queued)
    assert left.status == "pending" and f"symoe workflow resume {queued}" in str(left.error)
    release.set()
    executor.close(timeout_s=10)
