"""A workflow's wall time, model calls and tokens, and where the time goes, in process or
through Celery. Runs the workflow N times on one input through the same service
`symoe workflow run` uses, then reads the steps' times from the run store and the model calls
from the traces stored meanwhile (a fresh data dir: only this bench's). Time is reported as
the share of wall time per kind of step (plan, tasks, judge, assemble), and inside the tasks
step as the sub-tasks' summed seconds of generation (the tools), review (the supervisors) and
refinement (rewriting instructions), which overlap when sub-tasks run in parallel.

With `--runner celery` the bench starts its own `symoe worker --workflows` (threads pool,
`--worker-threads` of them) on the same data dir and the configured broker (Redis), waits
until it answers, and stops it after; model calls made in the worker (a research sub-answer)
are in the same trace store, so they are counted too.

    .venv/bin/python bench/workflows.py soundscape --runs 3 --runner inprocess \\
        --input "A rainy street at night: rain falls, a man says good evening, soft music plays."
    .venv/bin/python bench/workflows.py soundscape --runs 3 --runner celery --input "..."
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from orchestrator.factory import Deployment
from orchestrator.settings import Settings
from orchestrator.workflows.engine import WorkflowFailed
from workers.process import start_worker, stop, wait_ready


def one_run(dep: Deployment, name: str, text: str, runner: str) -> dict[str, Any]:
    service = dep.workflows(subtask_runner=runner)
    before = dep.stores.traces.call_totals()
    started = time.perf_counter()
    run_id, engine = service.start(name, text)
    try:
        engine.run(run_id, text)
    except WorkflowFailed as exc:
        print(f"run {run_id} failed: {exc}")
    wall = time.perf_counter() - started
    after = dep.stores.traces.call_totals()
    record = dep.stores.workflows.get(run_id)
    by_kind: dict[str, float] = defaultdict(float)
    for step in record.steps:
        if step.finished_at is not None and step.kind != "task":  # tasks are inside their step
            by_kind[step.kind] += (step.finished_at - step.started_at).total_seconds()
    inside_tasks = {
        "generation": sum(a.seconds for a in record.attempts),
        "review": sum(a.review_seconds for a in record.attempts),
        "refinement": sum(a.rewrite_seconds for a in record.attempts),
    }
    return {
        "run_id": run_id,
        "status": record.status,
        "wall_s": round(wall, 2),
        "seconds_by_step_kind": {k: round(v, 2) for k, v in by_kind.items()},
        "tasks_seconds": {k: round(v, 2) for k, v in inside_tasks.items()},
        "model_calls": after[0] - before[0],
        "prompt_tokens": after[1] - before[1],
        "completion_tokens": after[2] - before[2],
        "attempts": len(record.attempts),
        "retries": sum(a.number > 1 for a in record.attempts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workflow")
    parser.add_argument("--input", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--runner", choices=("inprocess", "celery"), default="inprocess")
    parser.add_argument("--worker-threads", type=int, default=2)
    parser.add_argument("--out", type=Path, help="default bench/results/workflows-NAME-RUNNER.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="symoe-bench-workflows-") as tmp:
        settings = Settings(data_dir=Path(tmp))  # a fresh store: only this bench's calls
        models = Settings().models_dir
        if models.exists():  # the assembled local models, not rebuilt
            (Path(tmp) / "models").symlink_to(models, target_is_directory=True)
        dep = Deployment(settings)
        worker = None
        if args.runner == "celery":
            from workers.celery_app import make_celery_app

            env = {**os.environ, "SYMOE_DATA_DIR": tmp}
            log = Path(tmp) / "worker.log"
            threads = str(args.worker_threads)
            worker = start_worker(
                env, log, "--workflows", "--pool", "threads", "--concurrency", threads
            )
            wait_ready(make_celery_app(settings.broker_url, settings.result_backend), worker, log)
        try:
            rows = [one_run(dep, args.workflow, args.input, args.runner) for _ in range(args.runs)]
        finally:
            if worker is not None:
                stop(worker)
            dep.close()
    total = sum(r["wall_s"] for r in rows)
    shares: dict[str, float] = defaultdict(float)
    for r in rows:
        for kind, seconds in r["seconds_by_step_kind"].items():
            shares[kind] += seconds / total
    result = {
        "workflow": args.workflow,
        "runner": args.runner,
        "runs": rows,
        "load_average": os.getloadavg(),
    }
    out = args.out or Path(f"bench/results/workflows-{args.workflow}-{args.runner}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    header = (
        "| run | status | wall s | model calls | prompt + completion tokens | attempts (retries) |"
    )
    print(header + "\n|---|---|---:|---:|---:|---:|")
    for n, r in enumerate(rows, start=1):
        tokens = f"{r['prompt_tokens']} + {r['completion_tokens']}"
        print(
            f"| {n} | {r['status']} | {r['wall_s']} | {r['model_calls']} | {tokens} "
            f"| {r['attempts']} ({r['retries']}) |"
        )
    by_kind = ", ".join(f"{k} {v:.0%}" for k, v in shares.items())
    print(f"\n{args.runner}: share of wall time by step kind: {by_kind}")
    inside = {k: sum(r["tasks_seconds"][k] for r in rows) for k in rows[0]["tasks_seconds"]}
    work = sum(inside.values()) or 1.0
    split = ", ".join(f"{k} {v:.1f} s ({v / work:.0%})" for k, v in inside.items())
    print(f"inside the tasks step (sub-tasks' summed seconds): {split}")


if __name__ == "__main__":
    main()
