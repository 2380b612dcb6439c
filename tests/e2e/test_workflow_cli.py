"""`symoe workflow` end to end in real processes: a soundscape-style workflow (a scripted
planner, the real numpy tools, measuring supervisors and mix) is SIGKILLed in the middle of
its generation step, then `symoe workflow resume` finishes it: no finished step runs again,
no attempt is made twice, and the mix is written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from orchestrator.db import Stores, make_engine, session_factory
from tests.e2e.rainy_workflow import WORKFLOW, planner_experts, rainy_plan

SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]
EVENTS = 12  # one at a time: enough for the kill to land mid-step
PLAN = rainy_plan(EVENTS)


@pytest.fixture
def env(cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    experts = planner_experts(tmp_path / "experts.yaml", PLAN)
    return {**cli_env, "SYMOE_EXPERTS_FILE": str(experts), "SYMOE_PROFILE_FILE": ""}


def stores(env: dict[str, str]) -> Stores:
    return Stores(session_factory(make_engine(f"sqlite:///{env['SYMOE_DATA_DIR']}/symoe.db")))


def test_a_killed_run_resumes_from_its_last_finished_step(
    env: dict[str, str], tmp_path: Path
) -> None:
    workflow = tmp_path / "rainy.yaml"
    workflow.write_text(WORKFLOW)
    proc = subprocess.Popen(
        [*SYMOE, "workflow", "run", str(workflow), "--input", "rain at night"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    store = None
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if (Path(env["SYMOE_DATA_DIR"]) / "symoe.db").exists():
                store = store or stores(env).workflows
                try:
                    runs = store.list()
                except OperationalError:  # the process is still creating the tables
                    runs = []
                if runs and len(store.get(runs[0].id).attempts) >= 3:
                    break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before the kill"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert store is not None
    (run,) = store.list()
    killed = store.get(run.id)
    steps = {s.key: s for s in killed.steps}
    assert killed.status == "running" and steps["generate"].status == "running"
    finished_before = {k: s.finished_at for k, s in steps.items() if s.status == "done"}
    assert "plan" in finished_before and 3 <= len(killed.attempts) < EVENTS

    resumed = subprocess.run(
        [*SYMOE, "workflow", "resume", run.id, "--json"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert "plan: done before, skipped" in resumed.stderr
    record = json.loads(resumed.stdout)
    assert record["status"] == "succeeded"
    after = {s["key"]: s for s in record["steps"]}
    assert all(s["status"] == "done" for s in after.values())
    for key, finished_at in finished_before.items():  # never run again
        assert datetime.fromisoformat(after[key]["finished_at"]) == finished_at
    made = [(a["task_id"], a["candidate"], a["number"]) for a in record["attempts"]]
    assert len(made) == len(set(made)) and {t for t, _, _ in made} == {
        f"{n + 1}-sfx" for n in range(EVENTS)
    }
    artifacts = Path(env["SYMOE_DATA_DIR"]) / "workflows" / run.id / "artifacts"
    assert (artifacts / "soundscape.wav").read_bytes()[:4] == b"RIFF"
    timeline = json.loads((artifacts / "timeline.json").read_text())
    assert len(timeline["events"]) == EVENTS and timeline["duration_s"] == pytest.approx(EVENTS + 1)

    shown = subprocess.run(
        [*SYMOE, "workflow", "show", run.id], env=env, capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0 and "succeeded" in shown.stdout
    again = subprocess.run(
        [*SYMOE, "workflow", "resume", run.id], env=env, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 2 and "has finished already" in again.stderr


def test_show_tells_each_sub_task_s_route_and_why(env: dict[str, str], tmp_path: Path) -> None:
    workflow = tmp_path / "rainy.yaml"
    ranked = "supervisors: [duration, loudness, signal], route: profile}"
    workflow.write_text(WORKFLOW.replace("supervisors: [duration, loudness, signal]}", ranked))
    done = subprocess.run(
        [*SYMOE, "workflow", "run", str(workflow), "--input", "rain", "--json"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["id"]
    shown = subprocess.run(
        [*SYMOE, "workflow", "show", run_id], env=env, capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    assert "route" in shown.stdout and "why" in shown.stdout
    assert "numpy_sfx: not tried before" in shown.stdout
