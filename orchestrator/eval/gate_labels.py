"""Retrieval-need labels from two evaluation runs of the same questions, one without
retrieval (`--retrieval never`) and one with it (`--retrieval always`): per question,
retrieval helped (`ir_better`) when the answers with it scored higher, hurt (`ir_worse`)
when lower, else `same`. This is how SKR labels its questions, here with symoe's own experts,
so `symoe gate fit` learns when retrieval helps *them*. The score is HotpotQA F1 for free-form
answers, else correctness; over several streams (seeds, methods in both runs) it is the mean."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel

from orchestrator.benchmarks import load_benchmark
from orchestrator.errors import InputError
from orchestrator.eval.config import EvalConfig
from orchestrator.eval.streams import read_rows
from orchestrator.retrieval.artifacts import Judgement

# Differences below this are float noise, not a change of answer quality.
TOLERANCE = 1e-9


class GateLabel(BaseModel):
    question: str
    judgement: Judgement
    item_id: str
    without_retrieval: float
    with_retrieval: float


def judge(without: float, with_retrieval: float) -> Judgement:
    if with_retrieval > without + TOLERANCE:
        return "ir_better"
    if with_retrieval < without - TOLERANCE:
        return "ir_worse"
    return "same"


def _config(run: Path) -> EvalConfig:
    path = run / "config.json"
    try:
        return EvalConfig.model_validate_json(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{run} is not an evaluation run (no config.json)") from None
    except ValueError as exc:
        raise InputError(f"{path}: not an evaluation config: {exc}") from None


def _scores(run: Path, streams: list[str]) -> dict[str, float]:
    """item id -> its mean score over `streams` (prediction file names)."""
    per_item: dict[str, list[float]] = defaultdict(list)
    for name in streams:
        for row in read_rows(run / "predictions" / name):
            f1 = row.get("f1")
            score = float(f1) if isinstance(f1, int | float) else float(bool(row["correct"]))
            per_item[str(row["item_id"])].append(score)
    return {item: sum(v) / len(v) for item, v in per_item.items()}


def labels_from_runs(without: Path, with_retrieval: Path, benchmarks_dir: Path) -> list[GateLabel]:
    """One label per question both runs answered, in the benchmark's order."""
    a, b = _config(without), _config(with_retrieval)
    if (a.benchmark, a.split, a.mapping) != (b.benchmark, b.split, b.mapping):
        raise InputError(
            f"the runs evaluate different questions: {a.benchmark}/{a.split} and "
            f"{b.benchmark}/{b.split}"
        )
    if (a.retrieval or "never") != "never" or b.retrieval in (None, "never"):
        raise InputError(
            "the first run must be without retrieval (--retrieval never) and the second "
            f"with it (got {a.retrieval or 'none'} and {b.retrieval or 'none'})"
        )
    names = {p.name for p in (without / "predictions").glob("*.jsonl")}
    streams = sorted(names & {p.name for p in (with_retrieval / "predictions").glob("*.jsonl")})
    if not streams:
        raise InputError(f"{without} and {with_retrieval} have no (method, seed) stream in common")
    before, after = _scores(without, streams), _scores(with_retrieval, streams)
    items = load_benchmark(benchmarks_dir, a.benchmark, a.split, mapping=a.mapping)
    return [
        GateLabel(
            question=item.question,
            judgement=judge(before[item.id], after[item.id]),
            item_id=item.id,
            without_retrieval=before[item.id],
            with_retrieval=after[item.id],
        )
        for item in items
        if item.id in before and item.id in after
    ]


def write_labels(labels: list[GateLabel], path: Path) -> None:
    if not labels:
        raise InputError("the runs have no question answered by both")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([label.model_dump() for label in labels], indent=1) + "\n")
