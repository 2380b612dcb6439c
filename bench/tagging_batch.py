"""Tagging in batches: what the embedding tagger's question embedding costs one at a time and
in a batch, and what the deployment's BatchingEmbedder does with concurrent requests.

Three parts, all with the bundled all-MiniLM-L6-v2 (numpy, one BLAS thread, as deployed):

1. Model cost per question: 1, 8, 32 and 64 distinct questions embedded one `encode` each,
   then as one `encode` (median of `--repeats`).
2. Concurrent callers: 1, 8 and 32 threads, each embedding its own fresh questions one
   `encode([question])` at a time (no cache hits), as the API server's request threads do.
   Before: CachedEmbedder(SQLite) -> MiniLM, the deployment's embedder until now. After:
   BatchingEmbedder(LRU) -> CachedEmbedder -> MiniLM, as orchestrator/factory.py builds it.
   Throughput, per-call latency p50/p99, and the mean size of the model's batches.
3. Cache hits: one repeated question, from the SQLite cache and from the in-memory LRU.

    .venv/bin/python bench/tagging_batch.py                 # 256 questions per level
    .venv/bin/python bench/tagging_batch.py --questions 512 --threads 1,8,32,64

Results: bench/results/tagging_batch.json and Markdown tables on stdout.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from skills.embedding_batcher import BatchingEmbedder
from skills.embedding_cache import CachedEmbedder
from skills.embeddings import Array, Embedder, MiniLMEmbedder

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = [
    "Question {i}: what is the derivative of {i} x squared plus three x with respect to x?",
    "In case {i}, is a contract signed under duress enforceable in a common-law court?",
    "Which of these enzymes ({i}) breaks down starch into sugars in the human mouth?",
    "A train leaves station {i} at 60 km/h; when does it meet one leaving at 80 km/h?",
    "Item {i}: explain why the sky is blue, in terms of Rayleigh scattering of sunlight.",
    "Which philosopher {i} argued that the unexamined life is not worth living, and why?",
    "Problem {i}: a loan of 1000 dollars at 5 percent compounded yearly is worth what later?",
    "What does the central bank do ({i}) when inflation runs above its target for a year?",
]
_fresh = itertools.count()


def fresh(n: int) -> list[str]:
    """n questions never embedded before in this process (MMLU-like, 20-30 tokens)."""
    return [TEMPLATES[k % len(TEMPLATES)].format(i=k) for k in itertools.islice(_fresh, n)]


class Counting:
    """The model's own calls: how many, and how many texts in all."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.calls, self.texts = inner, 0, 0

    def encode(self, texts: list[str]) -> Array:
        self.calls, self.texts = self.calls + 1, self.texts + len(texts)
        return self.inner.encode(texts)


def model_cost(model: MiniLMEmbedder, sizes: list[int], repeats: int) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        alone, batch = [], []
        for _ in range(repeats):
            qs = fresh(n)
            t0 = time.perf_counter()
            for q in qs:
                model.encode([q])
            t1 = time.perf_counter()
            model.encode(qs)
            t2 = time.perf_counter()
            alone.append((t1 - t0) / n)
            batch.append((t2 - t1) / n)
        a, b = statistics.median(alone) * 1e3, statistics.median(batch) * 1e3
        rows.append({"n": n, "alone_ms_per_q": a, "batch_ms_per_q": b, "speedup": a / b})
        print(f"model n={n}: {a:.2f} vs {b:.2f} ms/question", file=sys.stderr)
    return rows


def concurrent(embedder: Embedder, threads: int, total: int) -> dict[str, Any]:
    """`threads` callers, each encoding its own fresh questions one call at a time."""
    per = [fresh(total // threads) for _ in range(threads)]
    latencies: list[float] = []
    start = threading.Barrier(threads + 1)

    def work(qs: list[str]) -> None:
        start.wait()
        mine = []
        for q in qs:
            t0 = time.perf_counter()
            embedder.encode([q])
            mine.append(time.perf_counter() - t0)
        latencies.extend(mine)

    pool = [threading.Thread(target=work, args=(qs,)) for qs in per]
    for t in pool:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    wall = time.perf_counter() - t0
    ms = np.array(latencies) * 1e3
    return {
        "questions": len(latencies),
        "q_per_s": len(latencies) / wall,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
    }


def callers(
    model: MiniLMEmbedder, levels: list[int], total: int, tmp: Path
) -> list[dict[str, Any]]:
    rows = []
    for threads in levels:
        for name in ("before", "after"):
            counting = Counting(model)
            cached = CachedEmbedder(counting, tmp / f"{name}-{threads}")
            embedder: Embedder = cached if name == "before" else BatchingEmbedder(cached)
            embedder.encode(fresh(1))  # opens the SQLite file
            counting.calls = counting.texts = 0
            row = {"threads": threads, "embedder": name, **concurrent(embedder, threads, total)}
            row["mean_model_batch"] = counting.texts / max(counting.calls, 1)
            rows.append(row)
            print(f"x{threads} {name}: {row['q_per_s']:.0f} q/s", file=sys.stderr)
    return rows


def hits(model: MiniLMEmbedder, tmp: Path, n: int = 2000) -> dict[str, float]:
    cached = CachedEmbedder(model, tmp / "hits")
    batching = BatchingEmbedder(cached)
    out = {}
    for name, embedder in (("sqlite", cached), ("lru", batching)):
        q = fresh(1)
        embedder.encode(q)
        t0 = time.perf_counter()
        for _ in range(n):
            embedder.encode(q)
        out[f"{name}_hit_us"] = (time.perf_counter() - t0) / n * 1e6
    return out


def tables(record: dict[str, Any]) -> str:
    lines = [
        "| questions | one at a time, ms/q | one batch, ms/q | speedup |",
        "|---:|---:|---:|---:|",
    ]
    for r in record["model"]:
        lines.append(
            f"| {r['n']} | {r['alone_ms_per_q']:.2f} | {r['batch_ms_per_q']:.2f} | "
            f"{r['speedup']:.1f}x |"
        )
    lines += [
        "",
        "| threads | before q/s | after q/s | before p50 / p99 ms | after p50 / p99 ms "
        "| after mean batch |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    by = {(r["threads"], r["embedder"]): r for r in record["callers"]}
    for threads in record["config"]["threads"]:
        b, a = by[threads, "before"], by[threads, "after"]
        lines.append(
            f"| {threads} | {b['q_per_s']:.0f} | {a['q_per_s']:.0f} | "
            f"{b['p50_ms']:.1f} / {b['p99_ms']:.1f} | {a['p50_ms']:.1f} / {a['p99_ms']:.1f} | "
            f"{a['mean_model_batch']:.1f} |"
        )
    h = record["hits"]
    lines.append(
        f"\nrepeated question: {h['sqlite_hit_us']:.0f} us from SQLite, "
        f"{h['lru_hit_us']:.1f} us from the in-memory LRU"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="1,8,32,64")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", default="1,8,32")
    parser.add_argument("--questions", type=int, default=256, help="per concurrency level")
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench" / "results" / "tagging_batch.json"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    levels = [int(t) for t in args.threads.split(",")]
    model = MiniLMEmbedder()
    model.encode(fresh(8))  # loads the weights
    with tempfile.TemporaryDirectory(prefix="symoe-tagging-batch-") as tmp:
        record = {
            "command": shlex.join([Path(sys.executable).name, *sys.argv]),
            "machine": {
                "cpus": os.cpu_count(),
                "load_average_1m": os.getloadavg()[0],
                "python": platform.python_version(),
            },
            "config": {
                "sizes": sizes,
                "repeats": args.repeats,
                "threads": levels,
                "questions": args.questions,
            },
            "model": model_cost(model, sizes, args.repeats),
            "callers": callers(model, levels, args.questions, Path(tmp)),
            "hits": hits(model, Path(tmp)),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1))
    print(tables(record))
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
