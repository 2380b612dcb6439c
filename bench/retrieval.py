"""Retrieval: ingestion throughput, search latency of bm25/dense/hybrid at 10k and 100k chunks
with the index's memory and first-search build time, and the retrieval gate's own cost.

Corpus (../shared/data/rag, SOURCES.md): every distinct HotpotQA paragraph of rpt_{train,dev,
test}, BoolQ dev passage and PubMedQA abstract, shuffled with a fixed seed, cut by the
configured Chunker (SYMOE_CHUNK_TOKENS / SYMOE_CHUNK_OVERLAP). Stores are SQLite files in a
temporary folder.

1. Ingestion: the first documents, up to --ingest-limit chunks, written as a JSONL corpus and
   ingested by `Ingester` (read, chunk, embed with the numpy all-MiniLM-L6-v2, store), as
   `symoe docs add` does; chunks per second, embedding included (its share reported).
2. The 10k set: the ingested chunks, then the next documents' real chunks (real text) stored
   through `DocumentStore.upsert` with the ingested chunks' real embeddings reused, each with
   a tiny deterministic perturbation. Embedding 10k chunks with the numpy model takes about
   10 minutes on 2 busy cores; `--ingest-limit 10000` makes every embedding real.
3. The 100k set (embedding 100k chunks would take hours here): the 10k set's chunks copied
   10 times through `DocumentStore.upsert`, copy 0 as it is, copy c >= 1 with the text suffix
   ` copy<c>` (BM25 sees distinct documents) and its embeddings perturbed with seed c (see
   bench/retrieval_corpus.py). What it measures is the indexes' latency over 100k rows; the
   vocabulary is the 10k set's, so BM25's postings are 10x longer than a real 100k corpus's.
4. Each retriever, new, on each set: the first search (it builds the index from the store),
   the index's memory (tracemalloc of a second build, kept alive), then --queries real
   HotpotQA questions at k=5; the query's embedding (dense, hybrid) is timed apart too.
5. Gates never/always: `decide` per query, and `Planner.plan` of one query with each gate over
   the hybrid retriever on the 10k set; with `always` the planner's own search time
   (`RetrievalDecision.search_seconds`) is reported.

    .venv/bin/python bench/retrieval.py                      # 4-6 minutes on 2 busy cores
    .venv/bin/python bench/retrieval.py --ingest-limit 10000 --sizes 10000

Results: bench/results/retrieval.json and Markdown tables on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from retrieval_corpus import (
    fill_copies,
    fill_real_texts,
    hotpot_questions,
    read_corpus,
    write_jsonl,
)
from retrieval_gate import gate_costs

from orchestrator.db import DocumentStore, make_engine, migrate, session_factory
from orchestrator.retrieval.chunking import Chunker
from orchestrator.retrieval.ingest import Ingester
from orchestrator.retrieval.retrievers import RETRIEVERS, Retriever
from orchestrator.settings import Settings
from skills.embeddings import Array, MiniLMEmbedder

K = 5
NAMES = ("bm25", "dense", "hybrid")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class TimedEmbedder:
    """An embedder that adds up the seconds spent in `encode`."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.seconds = 0.0

    def encode(self, texts: list[str]) -> Array:
        started = time.perf_counter()
        try:
            return self.inner.encode(texts)
        finally:
            self.seconds += time.perf_counter() - started


def open_store(path: Path) -> DocumentStore:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return DocumentStore(session_factory(engine))


def ms(seconds: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(seconds) * 1000, q)), 3)


def ingest(
    store: DocumentStore, corpus: Path, chunker: Chunker, embedder: TimedEmbedder
) -> dict[str, Any]:
    ingester = Ingester(store, embedder, chunker, text_field="text", id_field="id")
    embedder.seconds = 0.0
    started = time.perf_counter()
    results = ingester.ingest_file(corpus)
    seconds = time.perf_counter() - started
    chunks = sum(r.chunks for r in results)
    return {
        "documents": sum(r.outcome == "added" for r in results),
        "failed": sum(r.outcome == "failed" for r in results),
        "chunks": chunks,
        "seconds": round(seconds, 2),
        "chunks_per_s": round(chunks / seconds, 2),
        "embedding_share": round(embedder.seconds / seconds, 3),
    }


def traced_mb(build: Callable[[], Retriever], query: str) -> float:
    """MB still allocated by a new retriever after its first search (its index)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        retriever = build()
        retriever.search(query, K)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del retriever
    return round(held / 2**20, 1)


def measure(
    name: str, store: DocumentStore, embedder: TimedEmbedder, queries: list[str]
) -> dict[str, Any]:
    def build() -> Retriever:
        return RETRIEVERS.create(name, store, embedder)

    gc.collect()
    retriever = build()
    started = time.perf_counter()
    retriever.search(queries[0], K)  # builds the index
    first = time.perf_counter() - started
    totals: list[float] = []
    embeds: list[float] = []
    for query in queries:
        embedder.seconds = 0.0
        started = time.perf_counter()
        retriever.search(query, K)
        totals.append(time.perf_counter() - started)
        embeds.append(embedder.seconds)
    del retriever
    memory = traced_mb(build, queries[0])
    rest = [t - e for t, e in zip(totals, embeds, strict=True)]
    return {
        "retriever": name,
        "first_search_s": round(first, 2),
        "index_mb": memory,
        "p50_ms": ms(totals, 50),
        "p99_ms": ms(totals, 99),
        "query_embedding_p50_ms": ms(embeds, 50),
        "without_embedding_p50_ms": ms(rest, 50),
        "without_embedding_p99_ms": ms(rest, 99),
    }


def search_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| chunks | retriever | first search (index build) s | index MB | p50 ms | p99 ms "
        "| query embedding p50 ms | without embedding p50 / p99 ms |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['chunks']:,} | {r['retriever']} | {r['first_search_s']} | {r['index_mb']} "
            f"| {r['p50_ms']} | {r['p99_ms']} | {r['query_embedding_p50_ms']} "
            f"| {r['without_embedding_p50_ms']} / {r['without_embedding_p99_ms']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ingest-limit", type=int, default=1000, help="chunks ingested for real")
    parser.add_argument("--sizes", default="10000,100000", help="chunks in each searched store")
    parser.add_argument("--queries", type=int, default=150, help="HotpotQA questions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/retrieval.json"))
    args = parser.parse_args()
    settings = Settings()
    rag = settings.shared_data_dir / "rag"
    sizes = [int(s) for s in args.sizes.split(",")]
    load_before = os.getloadavg()
    say(f"reading the corpus in {rag}")
    documents = read_corpus(rag, args.seed)
    questions = hotpot_questions(rag, args.queries)
    chunker = Chunker(settings.chunk_tokens, settings.chunk_overlap)
    embedder = TimedEmbedder(MiniLMEmbedder())
    embedder.encode(["load the model"])  # its load is not ingestion
    chunked = []
    for document in documents:
        chunked.append((document, chunker.split(document.text)))
        if sum(len(c) for _, c in chunked) >= max(sizes[0], args.ingest_limit):
            break
    ingested, total = 0, 0
    for ingested, (_, chunks) in enumerate(chunked, start=1):  # noqa: B007 (the count is used)
        total += len(chunks)
        if total >= args.ingest_limit:
            break
    result: dict[str, Any] = {"corpus_documents": len(documents), "queries": len(questions), "k": K}
    with tempfile.TemporaryDirectory(prefix="symoe-bench-retrieval-") as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        write_jsonl([d for d, _ in chunked[:ingested]], corpus)
        store = open_store(Path(tmp) / "real.db")
        say(f"ingesting {ingested} documents ({total} chunks) with the numpy MiniLM")
        result["ingestion"] = ingest(store, corpus, chunker, embedder)
        say(f"ingestion: {result['ingestion']}")
        ids = sorted(store.chunk_ids())
        reused = store.embeddings(ids)
        filled = fill_real_texts(store, chunked[ingested:], reused, sizes[0])
        result["real_embeddings"] = len(ids)
        result["reused_embeddings"] = filled
        rows: list[dict[str, Any]] = []
        for size in sizes:
            if size == sizes[0]:
                searched = store
            else:
                say(f"copying the {sizes[0]:,} chunks into a {size:,}-chunk store")
                searched = open_store(Path(tmp) / f"copies-{size}.db")
                result[f"copies_{size}"] = fill_copies(store, searched, size)
            for name in NAMES:
                say(f"{name} over {searched.revision()[1]:,} chunks")
                row = {
                    "chunks": searched.revision()[1],
                    **measure(name, searched, embedder, questions),
                }
                say(str(row))
                rows.append(row)
        result["search"] = rows
        say("gates")
        result["gates"] = gate_costs(
            RETRIEVERS.create("hybrid", store, embedder), questions, settings
        )
    result["load_average_before"] = [round(x, 2) for x in load_before]
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["cpus"] = os.cpu_count()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    i = result["ingestion"]
    print("| chunks ingested | documents | seconds | chunks/s | embedding share |")
    print("|---:|---:|---:|---:|---:|")
    print(
        f"| {i['chunks']:,} | {i['documents']:,} | {i['seconds']} | {i['chunks_per_s']} "
        f"| {i['embedding_share']:.0%} |\n"
    )
    print(search_table(rows) + "\n")
    print(result["gates"]["table"])


if __name__ == "__main__":
    main()
