"""Orchestration overhead: routing and scheduling cost per query, everything but generation.

22 scripted experts (instant backends), a profile set over 40 skills, queries tagged with 3
skills each by a fixed tagger (the embedding tagger's cost is a model call, reported apart by
--with-embedding-tagger), symbolic recruiter k=3, grouping, in-process runner, weighted vote.

    .venv/bin/python bench/orchestration_overhead.py --sizes 1,100,10000
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from orchestrator.aggregators import all_aggregators
from orchestrator.answering import AnsweringService
from orchestrator.execution import PlanExecutor
from orchestrator.experts import Expert, ExpertRegistry
from orchestrator.plan import BatchOptions, Query
from orchestrator.planner import Planner
from orchestrator.recruiters import SymbolicRecruiter
from orchestrator.retrieval import GateContext, NeverRetrieve
from orchestrator.runners import InProcessRunner
from orchestrator.stages import StageExecutor
from orchestrator.taggers import Tagger
from orchestrator.trace import SkillTagging
from skills.profiles import ProfileSet, SkillScore
from workers.pool import ModelPool

SKILLS = [f"skill-{i}" for i in range(40)]


class RandomSkillTagger(Tagger):
    name = "precomputed"

    def __init__(self) -> None:
        pass

    def tag(
        self, keys: list[str], questions: list[str], stages: StageExecutor
    ) -> list[SkillTagging]:
        rng = random.Random(0)
        return [SkillTagging(method=self.name, skills=rng.sample(SKILLS, 3)) for _ in keys]


def build(n_experts: int) -> AnsweringService:
    rng = random.Random(1)
    experts = [
        Expert(
            name=f"expert-{i}",
            backend="scripted",
            model=f"m{i}",
            roles=["expert"],
            options={"default": f"The answer is ({'ABCD'[i % 4]})."},
        )
        for i in range(n_experts)
    ]
    profile = ProfileSet(
        name="bench",
        experts={
            e.name: {s: SkillScore(score=rng.randint(-5, 8), count=10) for s in SKILLS}
            for e in experts
        },
    )
    registry = ExpertRegistry(experts)
    runner = InProcessRunner(ModelPool(memory_budget_mb=1_000_000))
    aggregators = all_aggregators()
    planner = Planner(
        registry=registry,
        tagger=RandomSkillTagger(),
        gate=NeverRetrieve(GateContext(profile)),
        recruiter=SymbolicRecruiter(profile),
        aggregators=aggregators,
        profile=profile,
    )
    executor = PlanExecutor(registry, aggregators, lambda: StageExecutor(runner, registry))
    return AnsweringService(planner, executor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,100,10000")
    parser.add_argument("--experts", type=int, default=22)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--out", type=Path, default=Path("bench/results/orchestration_overhead.json")
    )
    args = parser.parse_args()
    answering = build(args.experts)
    answering.answer(
        [Query(text="warm up (A) x (B) y")], BatchOptions(k=3, aggregation="weighted_vote")
    )
    rows = []
    print(f"{'queries':>8} {'batch s':>9} {'ms/query':>9} {'groups':>7}")
    for n in (int(s) for s in args.sizes.split(",")):
        queries = [
            Query(text=f"Question {i}? The options are: (A) a (B) b (C) c (D) d") for i in range(n)
        ]
        times = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            report = answering.answer(queries, BatchOptions(k=3, aggregation="weighted_vote"))
            times.append(time.perf_counter() - started)
        best = min(times)
        groups = sum(s.groups for s in report.stages)
        rows.append(
            {
                "queries": n,
                "seconds_best": best,
                "seconds_median": statistics.median(times),
                "ms_per_query": 1000 * best / n,
                "groups": groups,
            }
        )
        print(f"{n:>8} {best:>9.3f} {1000 * best / n:>9.3f} {groups:>7}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"experts": args.experts, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
