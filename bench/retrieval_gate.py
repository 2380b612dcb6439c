"""The retrieval gate's own cost (bench/retrieval.py): `decide` per query, and `Planner.plan`
of one query with each gate over a retriever (one scripted expert, a fixed tagger, so what
planning adds besides the gate and the search is small and the same for both gates)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from orchestrator.aggregators import all_aggregators
from orchestrator.experts import Expert, ExpertRegistry
from orchestrator.plan import BatchOptions, Query
from orchestrator.planner import Planner
from orchestrator.recruiters import SymbolicRecruiter
from orchestrator.retrieval import GATES, GateContext
from orchestrator.retrieval.retrievers import Retriever
from orchestrator.runners import InProcessRunner
from orchestrator.settings import Settings
from orchestrator.stages import StageExecutor
from orchestrator.taggers import Tagger
from orchestrator.trace import SkillTagging
from skills.profiles import ProfileSet, SkillScore
from workers.pool import ModelPool

SKILL = "skill-0"
# skr_knn needs an artifact fitted by `symoe gate fit`; its kNN cost is not measured here.
GATES_MEASURED = ("never", "always")


class FixedTagger(Tagger):
    name = "precomputed"

    def __init__(self) -> None:
        pass

    def tag(
        self, keys: list[str], questions: list[str], stages: StageExecutor
    ) -> list[SkillTagging]:
        return [SkillTagging(method=self.name, skills=[SKILL]) for _ in keys]


def _percentiles(seconds: list[float], scale: float) -> tuple[float, float]:
    values = np.asarray(seconds) * scale
    return round(float(np.percentile(values, 50)), 3), round(float(np.percentile(values, 99)), 3)


def gate_costs(retriever: Retriever, questions: list[str], settings: Settings) -> dict[str, Any]:
    expert = Expert(name="e0", backend="scripted", model="m0", options={"default": "(A)"})
    registry = ExpertRegistry([expert])
    profile = ProfileSet(name="bench", experts={"e0": {SKILL: SkillScore(score=1, count=10)}})
    stages = StageExecutor(InProcessRunner(ModelPool(memory_budget_mb=1_000)), registry)
    retriever.search(questions[0], settings.retrieval_passages)  # builds the index
    tagging = [SkillTagging(method="precomputed", skills=[SKILL])]
    rows: list[dict[str, Any]] = []
    for name in GATES_MEASURED:
        gate = GATES.create(name, GateContext(profile=profile))
        planner = Planner(
            registry=registry,
            tagger=FixedTagger(),
            gate=gate,
            recruiter=SymbolicRecruiter(profile),
            aggregators=all_aggregators(),
            profile=profile,
            search=retriever.search,
            passages=settings.retrieval_passages,
        )
        options = BatchOptions(k=1, aggregation="vote")
        decide, plan, search = [], [], []
        for question in questions:
            started = time.perf_counter()
            gate.decide([question], tagging)
            decide.append(time.perf_counter() - started)
            started = time.perf_counter()
            (made,) = planner.plan([Query(text=question)], options, stages)
            plan.append(time.perf_counter() - started)
            if made.retrieval.search_seconds > 0.0:  # the gate retrieved
                search.append(made.retrieval.search_seconds)
        row: dict[str, Any] = {"gate": name, "queries": len(questions)}
        row["decide_us_p50"], row["decide_us_p99"] = _percentiles(decide, 1e6)
        row["plan_ms_p50"], row["plan_ms_p99"] = _percentiles(plan, 1e3)
        if search:
            row["search_ms_p50"], row["search_ms_p99"] = _percentiles(search, 1e3)
        rows.append(row)
    lines = [
        f"| gate | decide µs p50 / p99 | plan of one query ms p50 / p99 | planner's search "
        f"(hybrid, {settings.retrieval_passages} passages) ms p50 / p99 |",
        "|---|---:|---:|---:|",
    ]
    for r in rows:
        searched = f"{r['search_ms_p50']} / {r['search_ms_p99']}" if "search_ms_p50" in r else "-"
        lines.append(
            f"| {r['gate']} | {r['decide_us_p50']} / {r['decide_us_p99']} "
            f"| {r['plan_ms_p50']} / {r['plan_ms_p99']} | {searched} |"
        )
    return {"rows": rows, "passages": settings.retrieval_passages, "table": "\n".join(lines)}
