"""Time to recover a group whose worker is killed (SIGKILL) while it generates.

Two `symoe worker` subprocesses host the same scripted expert (a fixed generation time, so
the group is still running when its worker dies). Each trial sends one group through a
CeleryRunner built as `symoe serve` builds it (Deployment.make_runner), waits until a worker
has started it, kills that worker with SIGKILL and measures, from the kill:

  redelivered: the group started again on the surviving (idle) worker
  result:      the runner returned the group's completions

then starts a replacement worker for the next trial. Modes:

  defaults:     the default settings (liveness heartbeat; broker visibility timeout 3600 s)
  broker-only:  no liveness check (as before it existed), SYMOE_BROKER_VISIBILITY_TIMEOUT_S=20:
                what the broker's own redelivery costs (kombu's restore sweep included)

    .venv/bin/python bench/worker_recovery.py --trials 5
    .venv/bin/python bench/worker_recovery.py --trials 3 --modes defaults,broker-only

Needs Redis on the configured broker URL; starts its own workers. Writes
bench/results/worker_recovery.json and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from orchestrator.factory import Deployment
from orchestrator.runners import CeleryRunner
from orchestrator.scheduler import Group, GroupResult, StageRequest
from orchestrator.settings import Settings
from workers.process import start_worker, stop, wait_for
from workers.types import GenerationParams, ModelSpec, Prompt

WAIT_S = 900  # a redelivery slower than this is a failure, not a number

EXPERT = "recovery"
QUESTION = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"
MODES = {"defaults": {}, "broker-only": {"SYMOE_BROKER_VISIBILITY_TIMEOUT_S": "20"}}


def started_on(runner: CeleryRunner) -> dict[str, str]:
    """Task id -> worker hostname for every group a worker has started (result backend)."""
    client = runner.app.backend.client
    keys = client.keys("celery-task-meta-*")
    out: dict[str, str] = {}
    for key, raw in zip(keys, client.mget(keys) if keys else [], strict=True):
        meta = runner.app.backend.decode(raw) if raw else None
        if meta and meta["status"] == "STARTED":
            out[key.decode().removeprefix("celery-task-meta-")] = meta["result"]["hostname"]
    return out


class Workers:
    """The running workers by hostname (`symoe-<pid>@<host>`)."""

    def __init__(self, runner: CeleryRunner, env: dict[str, str], logs: Path) -> None:
        self.runner, self.env, self.logs = runner, env, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        proc = start_worker(self.env, self.logs / f"worker-{len(self.procs)}-{time.time():.0f}.log")

        def answering() -> str | None:
            replies = self.runner.app.control.ping(timeout=0.5) or []
            return next((h for r in replies for h in r if h.startswith(f"symoe-{proc.pid}@")), None)

        self.procs[wait_for(answering, "worker answering a ping", 120)] = proc

    def kill(self, host: str) -> None:
        stop(self.procs.pop(host), signal.SIGKILL)

    def close(self) -> None:
        for proc in self.procs.values():
            stop(proc, signal.SIGKILL)


def trial(runner: CeleryRunner, workers: Workers, delay_s: float) -> dict[str, float]:
    spec = ModelSpec(name=EXPERT, backend="scripted", model=EXPERT, options={"delay_s": delay_s})
    group = Group(
        stage="experts",
        spec=spec,
        params=GenerationParams(max_tokens=16),
        requests=[StageRequest(key="q", expert=EXPERT, prompt=Prompt.user(QUESTION))],
    )
    results: list[GroupResult] = []
    thread = threading.Thread(target=lambda: results.extend(runner.run_groups([group])))
    thread.start()
    (host, *_) = wait_for(lambda: list(started_on(runner).values()), "group started", WAIT_S)
    workers.kill(host)
    killed = time.perf_counter()
    wait_for(
        lambda: any(h != host for h in started_on(runner).values()),
        "group started elsewhere",
        WAIT_S,
    )
    redelivered = time.perf_counter() - killed
    thread.join()
    result = time.perf_counter() - killed
    (outcome,) = results
    assert outcome.error is None and all(outcome.completions), outcome.error
    workers.start()  # back to two workers for the next trial
    return {"redelivered_s": redelivered, "result_s": result}


def run_mode(mode: str, trials: int, delay_s: float, logs: Path) -> dict[str, Any]:
    os.environ.update(MODES[mode])
    settings = Settings(runner="celery")
    runner = Deployment(settings).make_runner()
    assert isinstance(runner, CeleryRunner)
    if mode == "broker-only":
        runner.liveness_check_s = 1e9  # never checks: only the broker's redelivery is left
    experts_file = logs / "experts.yaml"
    experts_file.write_text(
        yaml.safe_dump({"experts": [{"name": EXPERT, "backend": "scripted", "model": EXPERT}]})
    )
    env = {**os.environ, "SYMOE_EXPERTS_FILE": str(experts_file)}
    workers = Workers(runner, env, logs)
    try:
        workers.start()
        workers.start()
        runs = [trial(runner, workers, delay_s) for _ in range(trials)]
    finally:
        workers.close()
        for key in MODES[mode]:
            os.environ.pop(key, None)
    return {
        "settings": {
            "broker_visibility_timeout_s": settings.broker_visibility_timeout_s,
            "worker_heartbeat_s": settings.worker_heartbeat_s,
            "worker_lost_after_s": settings.worker_lost_after_s,
            "group_timeout_s": settings.group_timeout_s,
        },
        "trials": runs,
        "lost_workers": runner.lost_workers,
        "resubmissions": runner.resubmissions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--modes", default="defaults", help="comma-separated: " + ", ".join(MODES))
    parser.add_argument("--delay", type=float, default=5.0, help="the group's generation, s")
    parser.add_argument("--out", type=Path, default=Path("bench/results/worker_recovery.json"))
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="worker-recovery-"))
    report: dict[str, Any] = {"args": vars(args) | {"out": str(args.out)}, "modes": {}}
    for mode in args.modes.split(","):
        report["modes"][mode] = run_mode(mode, args.trials, args.delay, logs)

    print("| mode | trials | redelivered mean / max s | result mean / max s |")
    print("|---|---:|---:|---:|")
    for mode, data in report["modes"].items():
        red = [t["redelivered_s"] for t in data["trials"]]
        res = [t["result_s"] for t in data["trials"]]
        print(
            f"| {mode} | {len(red)} | {statistics.fmean(red):.1f} / {max(red):.1f} "
            f"| {statistics.fmean(res):.1f} / {max(res):.1f} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"worker logs: {logs}")


if __name__ == "__main__":
    main()
