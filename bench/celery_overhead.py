"""Orchestration overhead of the Celery path against the in-process path for the same groups.

Scripted experts (instant generation), so what is measured is everything but the model:
payload encoding, the broker round trip through Redis, the worker's task dispatch and the
result backend. Two shapes:

  sequential: one group at a time (latency a single request pays per group)
  stage:      N groups of one stage sent at once (what a batch's stage pays)

    .venv/bin/python bench/celery_overhead.py --groups 200 --experts 4

Needs Redis on the configured broker URL; starts its own `symoe worker` subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from orchestrator.runners import CeleryRunner, InProcessRunner, Runner
from orchestrator.scheduler import Group, StageRequest
from orchestrator.settings import Settings
from workers.celery_app import make_celery_app
from workers.pool import ModelPool
from workers.process import running_worker
from workers.types import GenerationParams, ModelSpec, Prompt

QUESTION = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


def groups(n: int, experts: int, prompts: int) -> list[Group]:
    names = [f"e{i % experts}" for i in range(n)]
    return [
        Group(
            stage="experts",
            spec=ModelSpec(name=name, backend="scripted", model=name),
            params=GenerationParams(max_tokens=16),
            requests=[
                StageRequest(key=f"q{i}-{j}", expert=name, prompt=Prompt.user(QUESTION))
                for j in range(prompts)
            ],
        )
        for i, name in enumerate(names)
    ]


def measure(runner: Runner, work: list[Group]) -> dict[str, float]:
    runner.run_groups(work[:4])  # warm: load models, open connections
    per_group = []
    for g in work:
        started = time.perf_counter()
        runner.run_groups([g])
        per_group.append(time.perf_counter() - started)
    started = time.perf_counter()
    results = runner.run_groups(work)
    stage_s = time.perf_counter() - started
    assert all(r.error is None for r in results)
    return {
        "sequential_p50_ms": statistics.median(per_group) * 1000,
        "sequential_mean_ms": statistics.fmean(per_group) * 1000,
        "stage_ms_per_group": stage_s / len(work) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--experts", type=int, default=4)
    parser.add_argument("--prompts", type=int, default=4, help="prompts per group")
    parser.add_argument("--out", type=Path, default=Path("bench/results/celery_overhead.json"))
    args = parser.parse_args()
    settings = Settings()
    work = groups(args.groups, args.experts, args.prompts)

    results = {"inprocess": measure(InProcessRunner(ModelPool(10_000)), work)}
    tmp = Path(tempfile.mkdtemp())
    experts_file = tmp / "experts.yaml"
    experts_file.write_text(
        yaml.safe_dump(
            {
                "experts": [
                    {"name": f"e{i}", "backend": "scripted", "model": f"e{i}"}
                    for i in range(args.experts)
                ]
            }
        )
    )
    app = make_celery_app(settings.broker_url, settings.result_backend)
    env = {**os.environ, "SYMOE_EXPERTS_FILE": str(experts_file)}
    with running_worker(app, env, tmp / "worker.log"):
        results["celery"] = measure(CeleryRunner(app, timeout_s=60, retries=0), work)
    added = {
        key: results["celery"][key] - results["inprocess"][key] for key in results["inprocess"]
    }
    print(f"{'':22} {'in-process':>12} {'celery':>10} {'added':>10}")
    for key in results["inprocess"]:
        print(
            f"{key:22} {results['inprocess'][key]:10.3f}ms {results['celery'][key]:8.3f}ms "
            f"{added[key]:8.3f}ms"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"args": vars(args) | {"out": str(args.out)}, **results, "added": added}
    args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
