"""The `research` workflow against plain symoe on the first N items of a benchmark split:
accuracy beside cost (model calls, prompt and completion tokens, seconds).

A thin wrapper over `symoe eval run --methods symoe --workflows research` (one code path:
orchestrator/eval/workflow_stream.py), with plain symoe set to answer as `symoe ask` does
(the deployment's active profile set, tagger, k and aggregation: `--profile-split none`
and the settings' values), which is also how the workflow answers its sub-questions. Both
are graded with the benchmark's own grading (orchestrator.benchmarks.is_correct): symoe on
its trace's extracted answer, the workflow on the answer extracted from its final answer; a
failed run counts as wrong. Calls and tokens are each stream's own (its traces).

    .venv/bin/python bench/research_eval.py                        # arc_challenge test, 10
    .venv/bin/python bench/research_eval.py --benchmark gsm8k --split test --limit 5

The eval run lies in --run-dir (rerun the same command to resume a killed run; another
config replaces it); prints a table and writes bench/results/research_eval.json (totals and
every item's row).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from orchestrator.eval.config import workflow_stream_name
from orchestrator.settings import Settings


def eval_command(args: argparse.Namespace, settings: Settings) -> list[str]:
    return [
        *(sys.executable, "-m", "orchestrator.cli.main", "eval", "run"),
        *("--benchmark", args.benchmark, "--split", args.split, "--limit", str(args.limit)),
        *("--methods", "symoe", "--workflows", args.workflow),
        # plain symoe as `symoe ask` answers: the active profile set, the settings' choices
        *("--profile-split", "none", "--tagger", settings.tagger),
        *("--k", str(settings.k), "--aggregation", settings.aggregation),
        *("--out", str(args.run_dir), "--overwrite"),
    ]


def read_rows(run_dir: Path, stream: str) -> list[dict[str, Any]]:
    path = run_dir / "predictions" / f"{stream}__seed0.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def summary(rows: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    n = len(rows)
    return {
        "items": n,
        "correct": sum(bool(r["correct"]) for r in rows),
        "accuracy": round(sum(bool(r["correct"]) for r in rows) / n, 3) if n else 0.0,
        "failed": sum(r.get("error") is not None for r in rows),
        "unparsed": sum(r.get("error") is None and r["pred"] is None for r in rows),
        "model_calls": sum(int(r.get("model_calls", 0)) for r in rows),
        "prompt_tokens": sum(int(r["prompt_tokens"]) for r in rows),
        "completion_tokens": sum(int(r["completion_tokens"]) for r in rows),
        "seconds": round(seconds, 1),
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
    parser.add_argument("--run-dir", type=Path, default=Path("bench/results/research_eval"))
    args = parser.parse_args()
    command = eval_command(args, Settings())
    print("symoe " + " ".join(command[3:]), flush=True)  # after `python -m ...main`
    done = subprocess.run(command, check=False)
    if done.returncode != 0:
        sys.exit(done.returncode)
    metrics = json.loads((args.run_dir / "metrics.json").read_text())["methods"]
    streams = {"symoe": "symoe", args.workflow: workflow_stream_name(args.workflow)}
    rows = {method: read_rows(args.run_dir, stream) for method, stream in streams.items()}
    totals = {
        method: summary(rows[method], metrics[stream]["seconds"])
        for method, stream in streams.items()
    }
    result = {
        "benchmark": args.benchmark,
        "split": args.split,
        "limit": args.limit,
        "run_dir": str(args.run_dir),
        "totals": totals,
        "items": rows,
        "load_average": os.getloadavg(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print_table(totals)


if __name__ == "__main__":
    main()
