"""A workflow's wall time, model calls and tokens, and the share of time in each kind of step
(planning, generation with review and refinement, judging, assembly), in process. Runs the
workflow N times on one input through the same service `symoe workflow run` uses, then reads
the steps' times from the run store and the model calls from the traces stored meanwhile.

    .venv/bin/python bench/workflows.py soundscape --runs 3 \\
        --input "A rainy street at night: rain falls, a man says good evening, soft music plays."
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


def one_run(dep: Deployment, name: str, text: str) -> dict[str, Any]:
    service = dep.workflows()
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
    return {
        "run_id": run_id,
        "status": record.status,
        "wall_s": round(wall, 2),
        "seconds_by_step_kind": {k: round(v, 2) for k, v in by_kind.items()},
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
    parser.add_argument("--out", type=Path, default=Path("bench/results/workflows.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="symoe-bench-workflows-") as tmp:
        settings = Settings(data_dir=Path(tmp))  # a fresh store: only this bench's calls
        models = Settings().models_dir
        if models.exists():  # the assembled local models, not rebuilt
            (Path(tmp) / "models").symlink_to(models, target_is_directory=True)
        dep = Deployment(settings)
        rows = [one_run(dep, args.workflow, args.input) for _ in range(args.runs)]
        dep.close()
    total = sum(r["wall_s"] for r in rows)
    shares: dict[str, float] = defaultdict(float)
    for r in rows:
        for kind, seconds in r["seconds_by_step_kind"].items():
            shares[kind] += seconds / total
    result = {"workflow": args.workflow, "runs": rows, "load_average": os.getloadavg()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
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
    print(f"\nshare of wall time by step kind: {by_kind}")


if __name__ == "__main__":
    main()
