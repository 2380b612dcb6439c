"""The `research` workflow against plain symoe on the first N items of a benchmark split:
accuracy beside cost (model calls, prompt and completion tokens, seconds).

Per item, plain symoe answers the question as `symoe ask` does (the deployment's answering
service: tagging, recruiting, the committee, aggregation), and the workflow runs as
`symoe workflow run research` does (decompose, answer each sub-question with that same
answering, check, refine, synthesise); the two alternate item by item, so a load change on
the machine falls on both. Both are graded with the benchmark's own grading
(orchestrator.benchmarks.is_correct): plain symoe on its trace's extracted answer, the
workflow on the answer extracted from its final answer (orchestrator.answers.extract). Model
calls and tokens are counted from the traces the answering service stores (a fresh data
dir, so only this script's calls are there); a failed run counts as wrong.

    .venv/bin/python bench/research_eval.py                        # arc_challenge test, 10
    .venv/bin/python bench/research_eval.py --benchmark gsm8k --split test --limit 5

Prints a table and writes bench/results/research_eval.json (every item's answers).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from orchestrator.answers import extract
from orchestrator.benchmarks import BenchItem, is_correct, load_benchmark
from orchestrator.errors import InputError
from orchestrator.factory import Deployment
from orchestrator.options import RequestedOptions, batch_options
from orchestrator.plan import Query
from orchestrator.settings import Settings
from orchestrator.workflows.engine import WorkflowFailed

Cost = tuple[int, int, int]  # model calls, prompt tokens, completion tokens


def plain_symoe(dep: Deployment, item: BenchItem) -> dict[str, Any]:
    options = batch_options(dep.settings, RequestedOptions())
    (trace,) = dep.answering().answer([Query(text=item.question)], options).traces
    return {"answer": trace.answer, "pred": trace.extracted_answer, "error": trace.error}


def research(dep: Deployment, item: BenchItem, workflow: str) -> dict[str, Any]:
    service = dep.workflows()
    try:
        run_id, engine = service.start(workflow, item.question)
    except InputError as exc:  # e.g. a question over the workflow's input limit
        return {"answer": "", "pred": None, "error": str(exc)}
    try:
        outputs = engine.run(run_id, item.question)
    except WorkflowFailed as exc:
        return {"answer": "", "pred": None, "error": str(exc), "run_id": run_id}
    final = next((o for o in outputs.values() if "answer" in o and "cited" in o), {})
    answer = str(final.get("answer", ""))
    record = dep.stores.workflows.get(run_id)
    return {
        "answer": answer,
        "pred": extract(answer, item.fmt),
        "error": None,
        "run_id": run_id,
        "cited": final.get("cited", []),
        "attempts": len(record.attempts),
        "retries": sum(a.number > 1 for a in record.attempts),
    }


def measured(dep: Deployment, item: BenchItem, answer: Any, *args: Any) -> dict[str, Any]:
    """`answer(dep, item, *args)` with its cost, wall time and grade."""
    before, started = dep.stores.traces.call_totals(), time.perf_counter()
    row: dict[str, Any] = answer(dep, item, *args)
    seconds = time.perf_counter() - started
    after = dep.stores.traces.call_totals()
    calls, prompt, completion = (a - b for a, b in zip(after, before, strict=True))
    correct = row["error"] is None and is_correct(row["pred"], item.answer, item.fmt)
    return {
        **row,
        "correct": correct,
        "model_calls": calls,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "seconds": round(seconds, 2),
    }


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    return {
        "items": n,
        "correct": sum(r["correct"] for r in rows),
        "accuracy": round(sum(r["correct"] for r in rows) / n, 3) if n else 0.0,
        "failed": sum(r["error"] is not None for r in rows),
        "unparsed": sum(r["error"] is None and r["pred"] is None for r in rows),
        "model_calls": sum(r["model_calls"] for r in rows),
        "prompt_tokens": sum(r["prompt_tokens"] for r in rows),
        "completion_tokens": sum(r["completion_tokens"] for r in rows),
        "seconds": round(sum(r["seconds"] for r in rows), 1),
    }


def print_table(totals: dict[str, dict[str, Any]]) -> None:
    print(
        "| method | accuracy | correct / items | failed | no answer extracted | model calls "
        "(per item) | prompt + completion tokens (per item) | seconds (per item) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for method, t in totals.items():
        n = max(t["items"], 1)
        tokens = t["prompt_tokens"] + t["completion_tokens"]
        print(
            f"| {method} | {t['accuracy']:.2f} | {t['correct']} / {t['items']} | {t['failed']} "
            f"| {t['unparsed']} | {t['model_calls']} ({t['model_calls'] / n:.1f}) "
            f"| {t['prompt_tokens']:,} + {t['completion_tokens']:,} ({tokens / n:,.0f}) "
            f"| {t['seconds']:.0f} ({t['seconds'] / n:.0f}) |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--benchmark", default="arc_challenge")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=10, help="the first N items")
    parser.add_argument("--workflow", default="research", help="a workflow name or YAML file")
    parser.add_argument("--out", type=Path, default=Path("bench/results/research_eval.json"))
    args = parser.parse_args()
    items = load_benchmark(Settings().benchmarks_dir, args.benchmark, args.split, args.limit)
    rows: dict[str, list[dict[str, Any]]] = {"symoe": [], args.workflow: []}
    with tempfile.TemporaryDirectory(prefix="symoe-research-eval-") as tmp:
        settings = Settings(data_dir=Path(tmp))  # a fresh store: only this script's traces
        models = Settings().models_dir
        if models.exists():  # the assembled local models, not rebuilt
            (Path(tmp) / "models").symlink_to(models, target_is_directory=True)
        dep = Deployment(settings)
        for n, item in enumerate(items, start=1):
            plain = measured(dep, item, plain_symoe)
            workflow = measured(dep, item, research, args.workflow)
            for method, row in (("symoe", plain), (args.workflow, workflow)):
                rows[method].append({"id": item.id, "gold": item.answer, **row})
            print(
                f"{n}/{len(items)} {item.id} gold {item.answer}: symoe {plain['pred']} "
                f"({plain['seconds']:.0f} s), {args.workflow} {workflow['pred']} "
                f"({workflow['seconds']:.0f} s)",
                flush=True,
            )
        dep.close()
    totals = {method: summary(r) for method, r in rows.items()}
    result = {
        "benchmark": args.benchmark,
        "split": args.split,
        "limit": args.limit,
        "totals": totals,
        "items": rows,
        "load_average": os.getloadavg(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print_table(totals)


if __name__ == "__main__":
    main()
