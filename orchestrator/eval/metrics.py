"""Metrics of a run directory, computed from its prediction and progress files only: per
stream (method or workflow) its accuracy beside its cost, and the methods on the Pareto front
of accuracy against expert calls per question.

Cost is stated two ways, besides the totals (model calls, tokens, seconds):
  expert_calls_per_question  expert-stage calls per item, mean over rows and seeds: a row's
                             "expert_calls" where it has one (a cascade calls fewer experts
                             than it draws), else its drawn experts, repeats kept
  models_per_batch           models the experts stage loaded per batch (a fresh pool per
                             stream): per seed, its experts-stage loads over its
                             ceil(rows / chunk) batches, mean over seeds. Without the batch
                             size (`chunk` not passed), or for a workflow (whose batches are its
                             sub-questions), the distinct experts a seed drew across the
                             stream instead, as `distinct_models`; `models_per_batch_basis`
                             says which ("loads" or "distinct").
A resumed stream restarts its batches where it stopped, so with resumptions the batch count
is a lower bound and models_per_batch slightly high.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from orchestrator.eval.config import EvalConfig, workflow_stream_name
from orchestrator.eval.methods import build_method
from orchestrator.eval.streams import read_rows


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def is_upper_bound(name: str, method: dict[str, Any]) -> bool:
    """The oracle (or any method labelled an upper bound) is not a real contender."""
    return name == "oracle" or "upper bound" in str(method.get("label", "")).lower()


def pareto_front(methods: dict[str, dict[str, Any]]) -> list[str]:
    """The methods no other one dominates on (accuracy_mean: higher is better,
    expert_calls_per_question: lower is better), upper bounds and streams without a call
    count left out. A method is dominated by one with >= accuracy and <= calls, better on
    at least one; equal points are both on the front. Cheapest first (ties: most accurate
    first, then the order of `methods`)."""
    points = {
        name: (float(m.get("accuracy_mean") or 0.0), float(m["expert_calls_per_question"]))
        for name, m in methods.items()
        if not is_upper_bound(name, m) and m.get("expert_calls_per_question") is not None
    }
    front = [
        name
        for name, (acc, calls) in points.items()
        if not any(a >= acc and c <= calls and (a > acc or c < calls) for a, c in points.values())
    ]
    return sorted(front, key=lambda n: (points[n][1], -points[n][0]))


def compute_metrics(
    out_dir: Path, config: EvalConfig, n_items: int, pool: list[str], chunk: int | None = None
) -> dict[str, object]:
    """Every stream's accuracy beside its cost (model calls, tokens, seconds, expert calls
    per question, models per batch), keyed by method name, then by workflow stream name
    (workflow-<name>); `pareto` lists the methods on the accuracy / expert-calls front.
    `chunk` is the run's batch size (items per batch, `symoe eval run --chunk`), for
    models_per_batch; it is kept as metrics["chunk"] (None: not known)."""
    methods: dict[str, dict[str, object]] = {}
    for name in config.methods:
        probe = build_method(name, config, None, pool or ["x"], 0)
        seeds = config.seeds[:1] if probe.deterministic else config.seeds
        label = probe.label
        if probe.deterministic and len(config.seeds) > 1:
            label = (
                label + "; " if label else ""
            ) + "deterministic: computed once, same for every seed"
        methods[name] = _stream_metrics(out_dir, name, seeds, n_items, label, chunk)
    for entry in config.workflows:
        name = workflow_stream_name(entry)
        label = f"workflow {entry}: one run per item" + (
            f", seed {config.seeds[0]} only" if len(config.seeds) > 1 else ""
        )
        # a workflow's rows list the experts it drew once each, and its batches are its
        # sub-questions: no chunk, and expert calls only where its rows count them
        methods[name] = _stream_metrics(
            out_dir, name, config.seeds[:1], n_items, label, None, workflow=True
        )
    return {
        "config": config.model_dump(),
        "items": n_items,
        "chunk": chunk,
        "methods": methods,
        "pareto": pareto_front(methods),
    }


def _expert_calls(row: dict[str, object], workflow: bool) -> int | None:
    """Expert-stage calls of one row: its "expert_calls" where it has one, else its drawn
    experts (repeats kept); None for a workflow row without a count."""
    if row.get("expert_calls") is not None:
        return int(str(row["expert_calls"]))
    if workflow:
        return None
    return len(row["experts"])  # type: ignore[arg-type]


def _stream_metrics(
    out_dir: Path,
    name: str,
    seeds: list[int],
    n_items: int,
    label: str,
    chunk: int | None,
    workflow: bool = False,
) -> dict[str, object]:
    per_seed: dict[str, float] = {}
    unparseable: list[float] = []
    committee_oracle: list[float] = []
    cat_right: dict[str, list[float]] = defaultdict(list)
    drawn: dict[str, Counter[str]] = defaultdict(Counter)
    loads: Counter[str] = Counter()
    distinct: list[int] = []
    expert_calls: list[float] | None = []  # per seed; None once a row has no count
    per_batch: list[float] = []  # per seed: experts-stage loads / batches
    tokens = [0, 0]
    seconds = 0.0
    calls = 0
    retrieval = {"retrievals": 0.0, "retrieval_prompt_tokens": 0.0, "search_seconds": 0.0}
    qa: dict[str, list[float]] = {"em": [], "f1": []}  # free-form answers, per seed
    for seed in seeds:
        stem = f"{name}__seed{seed}"
        rows = read_rows(out_dir / "predictions" / f"{stem}.jsonl")
        if not rows:
            continue
        per_seed[str(seed)] = sum(bool(r["correct"]) for r in rows) / len(rows)
        for key, scores in qa.items():
            if all(key in r for r in rows):
                scores.append(sum(float(str(r[key])) for r in rows) / len(rows))
        unparseable.append(sum(r["pred"] is None for r in rows))
        # a workflow's rows have no committee (any_correct None)
        if all(r["any_correct"] is not None for r in rows):
            committee_oracle.append(sum(bool(r["any_correct"]) for r in rows) / len(rows))
        by_cat: dict[str, list[bool]] = defaultdict(list)
        experts_seen: set[str] = set()
        for r in rows:
            by_cat[str(r["category"])].append(bool(r["correct"]))
            experts = [str(e) for e in r["experts"]]  # type: ignore[attr-defined]
            drawn[str(r["category"])].update(experts)
            experts_seen.update(experts)
            tokens[0] += int(r["prompt_tokens"])  # type: ignore[call-overload]
            tokens[1] += int(r["completion_tokens"])  # type: ignore[call-overload]
        for cat, hits in by_cat.items():
            cat_right[cat].append(sum(hits) / len(hits))
        distinct.append(len(experts_seen))
        counts = [_expert_calls(r, workflow) for r in rows]
        if expert_calls is not None and None not in counts:
            expert_calls.append(sum(c or 0 for c in counts) / len(rows))
        else:
            expert_calls = None
        prog = out_dir / "progress" / f"{stem}.json"
        if prog.exists():
            stats = json.loads(prog.read_text())
            if chunk and not workflow:
                batches = math.ceil(len(rows) / chunk)
                per_batch.append(stats["loads_per_stage"].get("experts", 0) / batches)
            seconds += stats["seconds"]
            calls += stats.get("model_calls", 0)  # absent from runs made before it was counted
            loads.update(stats["loads_per_stage"])
            for key in retrieval:  # absent from runs made before retrieval existed
                retrieval[key] += stats.get(key, 0)
    accs = list(per_seed.values())
    runs = max(len(per_seed), 1)
    return {
        "accuracy_mean": _mean(accs),
        "accuracy_std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
        "accuracy_per_seed": per_seed,
        "committee_oracle_mean": _mean(committee_oracle) if committee_oracle else None,
        "unparseable_mean": _mean(unparseable),
        "items": n_items,
        # cost per run (averaged over seeds): model calls, tokens, seconds
        "model_calls": calls / runs,
        "prompt_tokens": tokens[0] // runs,
        "completion_tokens": tokens[1] // runs,
        "seconds": seconds / runs,
        "loads_per_stage": {k: v / runs for k, v in loads.items()},
        **{f"{key}_mean": _mean(scores) for key, scores in qa.items() if scores},
        # per run: the share of items that retrieved, and what retrieval cost
        "retrieval_rate": retrieval["retrievals"] / runs / n_items if n_items else 0.0,
        "retrieval_prompt_tokens": retrieval["retrieval_prompt_tokens"] / runs,
        "search_seconds": retrieval["search_seconds"] / runs,
        "distinct_models": _mean([float(d) for d in distinct]),
        # cost, explicitly: expert-stage calls per item, and models loaded per batch
        "expert_calls_per_question": _mean(expert_calls) if expert_calls else None,
        "models_per_batch": _mean(per_batch) if per_batch else _mean([float(d) for d in distinct]),
        "models_per_batch_basis": "loads" if per_batch else "distinct",
        "per_category": {c: _mean(v) for c, v in sorted(cat_right.items())},
        "experts_per_category": {c: dict(v.most_common()) for c, v in sorted(drawn.items())},
        "label": label,
    }
