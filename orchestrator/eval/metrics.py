"""Metrics of a run directory, computed from its prediction and progress files only: per
stream (method or workflow) its accuracy beside its cost."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from orchestrator.eval.config import EvalConfig, workflow_stream_name
from orchestrator.eval.methods import build_method
from orchestrator.eval.streams import read_rows


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def compute_metrics(
    out_dir: Path, config: EvalConfig, n_items: int, pool: list[str]
) -> dict[str, object]:
    """Every stream's accuracy beside its cost (model calls, tokens, seconds), keyed by
    method name, then by workflow stream name (workflow-<name>)."""
    methods: dict[str, object] = {}
    for name in config.methods:
        probe = build_method(name, config, None, pool or ["x"], 0)
        seeds = config.seeds[:1] if probe.deterministic else config.seeds
        label = probe.label
        if probe.deterministic and len(config.seeds) > 1:
            label = (
                label + "; " if label else ""
            ) + "deterministic: computed once, same for every seed"
        methods[name] = _stream_metrics(out_dir, name, seeds, n_items, label)
    for entry in config.workflows:
        name = workflow_stream_name(entry)
        label = f"workflow {entry}: one run per item" + (
            f", seed {config.seeds[0]} only" if len(config.seeds) > 1 else ""
        )
        methods[name] = _stream_metrics(out_dir, name, config.seeds[:1], n_items, label)
    return {"config": config.model_dump(), "items": n_items, "methods": methods}


def _stream_metrics(
    out_dir: Path, name: str, seeds: list[int], n_items: int, label: str
) -> dict[str, object]:
    per_seed: dict[str, float] = {}
    unparseable: list[float] = []
    committee_oracle: list[float] = []
    cat_right: dict[str, list[float]] = defaultdict(list)
    drawn: dict[str, Counter[str]] = defaultdict(Counter)
    loads: Counter[str] = Counter()
    distinct: list[int] = []
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
        prog = out_dir / "progress" / f"{stem}.json"
        if prog.exists():
            stats = json.loads(prog.read_text())
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
        "per_category": {c: _mean(v) for c, v in sorted(cat_right.items())},
        "experts_per_category": {c: dict(v.most_common()) for c, v in sorted(drawn.items())},
        "label": label,
    }
