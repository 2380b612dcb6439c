"""Retrieval quality on HotpotQA, where the gold paragraphs are known: recall@2/5/10 of the
bm25, dense and hybrid retrievers over the whole corpus of the 1,100 questions' paragraphs
(10,785 distinct titles, each a document), on the questions of one split.

recall@k = the share of a question's gold paragraphs (two per question) among the sources of
its top k hits. The corpus is ingested once into the data dir's document store (the same path
as `symoe docs add-corpus hotpotqa`) and reused by later runs.

    SYMOE_DATA_DIR=/tmp/symoe-recall .venv/bin/python bench/retrieval_recall.py --split rpt_test
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from orchestrator.benchmarks import load_benchmark
from orchestrator.benchmarks.rag_corpora import corpus_documents, gold_sources
from orchestrator.factory import Deployment
from orchestrator.settings import Settings

KS = (2, 5, 10)


def ingest(dep: Deployment) -> float:
    """Seconds spent ingesting the corpus (documents already stored are skipped)."""
    ingester = dep.ingester()
    documents = list(corpus_documents(dep.settings.benchmarks_dir, "hotpotqa"))
    started = time.perf_counter()
    for start in range(0, len(documents), 256):
        ingester.ingest_documents(documents[start : start + 256])
        print(f"ingested {min(start + 256, len(documents))}/{len(documents)}", file=sys.stderr)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="rpt_test")
    parser.add_argument("--limit", type=int, default=None, help="questions (default: all)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/retrieval_recall.json"))
    args = parser.parse_args()
    dep = Deployment(Settings())
    ingest_s = ingest(dep)
    items = load_benchmark(dep.settings.benchmarks_dir, "hotpotqa", args.split)[: args.limit]
    gold = gold_sources(dep.settings.benchmarks_dir, "hotpotqa")
    results: dict[str, dict[str, float]] = {}
    for name in ("bm25", "dense", "hybrid"):
        retriever = dep.make_retriever(name)  # the settings' weights: 1 and 1 by default
        retriever.search(items[0].question, 1)  # builds the index: not part of the latency
        found = dict.fromkeys(KS, 0)
        total = 0
        started = time.perf_counter()
        for item in items:
            golds = set(gold[item.id])
            hits = retriever.search(item.question, max(KS))
            sources = [h.chunk.source for h in hits]
            for k in KS:
                found[k] += len(golds & set(sources[:k]))
            total += len(golds)
        seconds = time.perf_counter() - started
        results[name] = {
            **{f"recall@{k}": found[k] / total for k in KS},
            "ms_per_query": 1000 * seconds / len(items),
        }
        print(f"{name}: {results[name]}", file=sys.stderr)
    report = {
        "split": args.split,
        "questions": len(items),
        "chunks": len(dep.stores.documents.chunk_ids()),
        "ingest_seconds_this_run": ingest_s,
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"| retriever | {' | '.join(f'recall@{k}' for k in KS)} | ms per query |")
    print("|---|" + "---:|" * (len(KS) + 1))
    for name, r in results.items():
        cells = " | ".join(f"{100 * r[f'recall@{k}']:.1f}" for k in KS)
        print(f"| {name} | {cells} | {r['ms_per_query']:.1f} |")


if __name__ == "__main__":
    main()
