"""The retrieval gates' own latency per query on a real store, with the artifacts `symoe gate
fit` stored there: `decide` for one query at a time (what the planner adds before recruiting),
each gate built as the deployment builds it (query embedder, profile, the hybrid retriever's
BM25 and dense parts for expert_rag). Questions are ones the store's runs never embedded, so
the embedding cache does not hide the query embedding.

    SYMOE_DATA_DIR=/tmp/symoe-rag-gates/hotpotqa/data .venv/bin/python bench/gate_latency.py
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from orchestrator.benchmarks import load_benchmark
from orchestrator.factory import Deployment
from orchestrator.retrieval import GATES
from orchestrator.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--benchmark", default="hotpotqa")
    parser.add_argument("--split", default="rpt_test")
    parser.add_argument("--skip", type=int, default=300, help="questions the runs may have seen")
    parser.add_argument("--queries", type=int, default=150)
    parser.add_argument("--gates", default="never,always,skr_knn,expert_rag")
    parser.add_argument("--out", type=Path, default=Path("bench/results/gate_latency.json"))
    args = parser.parse_args()
    dep = Deployment(Settings())
    items = load_benchmark(dep.settings.benchmarks_dir, args.benchmark, args.split)
    questions = [i.question for i in items[args.skip : args.skip + args.queries]]
    tagger, stages = dep.tagger(), dep.new_stages()
    dep.search_probe.signals(["warm up: build the indexes"])
    rows = []
    for name in args.gates.split(","):
        gate = GATES.create(name, dep.gate_context(dep.profile))
        seconds, retrieved = [], 0
        for n, question in enumerate(questions):
            (tagging,) = tagger.tag([str(n)], [question], stages)
            started = time.perf_counter()
            (decision,) = gate.decide([question], [tagging])
            seconds.append(time.perf_counter() - started)
            retrieved += decision.retrieve
        ms = np.asarray(seconds) * 1e3
        rows.append(
            {
                "gate": name,
                "queries": len(questions),
                "p50_ms": round(float(np.percentile(ms, 50)), 3),
                "p99_ms": round(float(np.percentile(ms, 99)), 3),
                "retrieval_rate": round(retrieved / len(questions), 3),
            }
        )
        print(rows[-1], flush=True)
    result = {
        "store_chunks": dep.stores.documents.revision()[1],
        "rows": rows,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(f"\n{result['store_chunks']:,} chunks; load average {result['load_average']}")
    print("| gate | decide ms p50 / p99 | retrieval rate |\n|---|---:|---:|")
    for r in rows:
        print(f"| {r['gate']} | {r['p50_ms']} / {r['p99_ms']} | {r['retrieval_rate']:.0%} |")


if __name__ == "__main__":
    main()
