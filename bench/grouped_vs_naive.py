"""Grouped vs naive execution of the same questions over the configured experts.

grouped: one expert stage; each model is loaded once and answers all questions in one
         batched group (the symoe scheduler).
naive:   question by question, each expert is loaded, answers, and is unloaded.

In process (llama.cpp experts):
    .venv/bin/python bench/grouped_vs_naive.py --questions 20 --max-tokens 32
Through Celery (a `symoe worker` subprocess per mode; naive runs it with a zero memory
budget, so every group loads its model), with the llama.cpp or the vLLM experts:
    .venv/bin/python bench/grouped_vs_naive.py --runner celery --questions 20
    SYMOE_EXPERTS_FILE=orchestrator/defaults/vllm_experts.yaml \
        .venv-vllm/bin/python bench/grouped_vs_naive.py --runner celery --questions 5
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestrator.answers import extract
from orchestrator.benchmarks import is_correct, load_benchmark
from orchestrator.experts import load_experts
from orchestrator.prompts import expert_prompt
from orchestrator.runners import CeleryRunner, InProcessRunner, Runner
from orchestrator.scheduler import StageRequest
from orchestrator.settings import Settings
from orchestrator.stages import StageExecutor
from workers.pool import ModelPool, PoolStats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--benchmark", default="arc_challenge")
    parser.add_argument("--split", default="test")
    parser.add_argument("--runner", choices=["inprocess", "celery"], default="inprocess")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    args.out = args.out or Path(f"bench/results/grouped_vs_naive_{args.runner}.json")
    settings = Settings()
    registry = load_experts(settings.experts_file)
    experts = [e.name for e in registry.with_role("expert")]
    items = load_benchmark(settings.benchmarks_dir, args.benchmark, args.split, args.questions)

    def params(name: str):  # type: ignore[no-untyped-def]
        return registry.get(name).generation.model_copy(update={"max_tokens": args.max_tokens})

    def requests(part):  # type: ignore[no-untyped-def]
        return [
            StageRequest(
                key=i.id,
                expert=e,
                prompt=expert_prompt(
                    i.question, i.fmt, registry.get(e).chat_format == "completion"
                ),
            )
            for i in part
            for e in experts
        ]

    for name in experts:  # assemble GGUF files and warm the disk cache before timing
        spec = registry.get(name).spec()
        if spec.backend == "llamacpp":
            ModelPool(0, settings).acquire(spec)[0].unload()

    runs = {}
    for mode in ("grouped", "naive"):
        with mode_runner(args.runner, mode, settings) as (runner, stats):
            stages = StageExecutor(runner, registry)
            started = time.perf_counter()
            results = []
            if mode == "grouped":
                results = stages.run_stage("experts", requests(items), params)
            else:
                for item in items:
                    results += stages.run_stage("experts", requests([item]), params)
                    if args.runner == "inprocess":
                        runner.close()  # unload all; a zero-budget worker does it itself
            seconds = time.perf_counter() - started
            pool = stats()
        by_id = {i.id: i for i in items}
        right = sum(
            is_correct(
                extract(r.completion.text if r.completion else "", by_id[r.request.key].fmt),
                by_id[r.request.key].answer,
                "letter",
            )
            for r in results
        )
        runs[mode] = {
            "seconds": round(seconds, 2),
            "loads": pool.loads,
            "load_seconds": round(pool.load_seconds, 2),
            "answers": len(results),
            "correct": right,
        }
        print(
            f"{mode:8} {seconds:7.1f}s  loads {pool.loads:3}  "
            f"(load time {pool.load_seconds:.1f}s)  correct {right}/{len(results)}"
        )
    ratio = runs["naive"]["seconds"] / runs["grouped"]["seconds"]
    print(f"naive / grouped wall time: {ratio:.2f}x")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "runner": args.runner,
                "experts_file": str(settings.experts_file),
                "questions": len(items),
                "experts": experts,
                "max_tokens": args.max_tokens,
                "runs": runs,
                "ratio": round(ratio, 2),
            },
            indent=1,
        )
    )


@contextmanager
def mode_runner(
    kind: str, mode: str, settings: Settings
) -> Iterator[tuple[Runner, Callable[[], PoolStats]]]:
    """The runner for one mode and a way to read its model-pool counters afterwards."""
    if kind == "inprocess":
        pool = ModelPool(settings.memory_budget_mb, settings)
        runner = InProcessRunner(pool, prefetch=False)
        try:
            yield runner, lambda: pool.stats
        finally:
            pool.release_all()
        return
    from workers.celery_app import make_celery_app, pool_stats
    from workers.process import running_worker

    app = make_celery_app(settings.broker_url, settings.result_backend)
    budget = settings.memory_budget_mb if mode == "grouped" else 0
    log = Path(tempfile.mkdtemp()) / "worker.log"
    with running_worker(app, os.environ, log, "--memory-budget", str(budget)):

        def stats() -> PoolStats:
            (worker,) = pool_stats(app, timeout_s=10).values()
            return worker

        yield CeleryRunner(app, timeout_s=3600, retries=0), stats


if __name__ == "__main__":
    main()
