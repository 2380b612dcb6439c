"""Grouped vs naive execution of the same questions over the local llama.cpp experts.

grouped: one expert stage; each model is loaded once and answers all questions in one
         batched group (the symoe scheduler).
naive:   question by question, each expert is loaded, answers, and is unloaded.

    .venv/bin/python bench/grouped_vs_naive.py --questions 20 --max-tokens 32
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from orchestrator.answers import extract
from orchestrator.benchmarks import is_correct, load_benchmark
from orchestrator.experts import load_experts
from orchestrator.prompts import expert_prompt
from orchestrator.runners import InProcessRunner
from orchestrator.scheduler import StageRequest
from orchestrator.settings import Settings
from orchestrator.stages import StageExecutor
from workers.pool import ModelPool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--benchmark", default="arc_challenge")
    parser.add_argument("--split", default="test")
    parser.add_argument("--out", type=Path, default=Path("bench/results/grouped_vs_naive.json"))
    args = parser.parse_args()
    settings = Settings()
    registry = load_experts(settings.experts_file)
    experts = [e.name for e in registry.with_role("expert")]
    items = load_benchmark(settings.benchmarks_dir, args.benchmark, args.split, args.questions)
    options = {"models_dir": str(settings.models_dir)}

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

    ModelPool(0).acquire(registry.get(experts[0]).spec(**options))  # assemble files, warm disk

    runs = {}
    for mode in ("grouped", "naive"):
        pool = ModelPool(settings.memory_budget_mb)
        stages = StageExecutor(InProcessRunner(pool), registry, options)
        started = time.perf_counter()
        results = []
        if mode == "grouped":
            results = stages.run("experts", requests(items), params)
        else:
            for item in items:
                results += stages.run("experts", requests([item]), params)
                pool.release_all()
        seconds = time.perf_counter() - started
        pool.release_all()
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
            "loads": pool.stats.loads,
            "load_seconds": round(pool.stats.load_seconds, 2),
            "answers": len(results),
            "correct": right,
        }
        print(
            f"{mode:8} {seconds:7.1f}s  loads {pool.stats.loads:3}  "
            f"(load time {pool.stats.load_seconds:.1f}s)  correct {right}/{len(results)}"
        )
    ratio = runs["naive"]["seconds"] / runs["grouped"]["seconds"]
    print(f"naive / grouped wall time: {ratio:.2f}x")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "questions": len(items),
                "experts": experts,
                "max_tokens": args.max_tokens,
                "runs": runs,
                "ratio": round(ratio, 2),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
