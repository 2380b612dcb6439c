"""API load: requests per second (and per core) and p50/p99 latency at 1, 8, 32 and 64
concurrent clients, in process and through the API, on SQLite and PostgreSQL, with one or
more API processes; and the API's own overhead per request.

The deployment is bench/load_setup.py's: 8 scripted experts (instant answers), k=3, vote,
the embedding tagger. "in-process" calls the objects a server builds (bench/load_inprocess.py:
micro-batching runner, answering service, group-committing trace writer) from N threads; it
also counts the merged groups per request and the traces per commit. "api" is a real
`symoe serve` (SYMOE_API_WORKERS processes) on a free loopback port, loaded by this script's
httpx threads, one keep-alive connection each, sharing the machine's cores with the server.
bench/wrk_load.py loads the same server with wrk instead.

Overhead = API p50 at 1 client minus the p50 of the same request in process (plan and run,
then the trace's group commit), interleaved request by request so both see the same load.
The overhead's requests and the HTTP floor (GET /healthz) use bench/raw_http.py's socket
client, so that the client's own Python is not counted as the server's: in one paired run
httpx took the floor from 0.63 to 1.41 ms and /v1/answers from 3.18 to 4.09 ms (p50).

    .venv/bin/python bench/api_load.py                                   # SQLite, 1 process
    .venv/bin/python bench/api_load.py --databases sqlite,postgres --processes 1,2
    .venv/bin/python bench/api_load.py --group-ms 20 --endpoints answers  # groups that take time

Results: bench/results/api_load.json and Markdown tables on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from load_inprocess import InProcess
from load_setup import (
    ANSWERS,
    CHAT,
    QUESTIONS,
    REPO,
    body_for,
    closed_loop,
    deployment_args,
    deployments,
    percentile,
    server_config,
    server_env,
    serving,
    settings_of,
)
from raw_http import RawClient

__all__ = ["ANSWERS", "CHAT", "QUESTIONS", "REPO", "body_for", "server_config", "server_env"]
CORES = os.cpu_count() or 1


def load(
    url: str, endpoint: str, headers: dict[str, str], clients: int, total: int
) -> dict[str, Any]:
    """`total` requests from `clients` threads, each on its own keep-alive connection."""
    failures: list[str] = []

    @contextmanager
    def connection() -> Iterator[Callable[[int], None]]:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:

            def post(i: int) -> None:
                body = body_for(endpoint, QUESTIONS[i % len(QUESTIONS)])
                response = client.post(endpoint, json=body)
                if response.status_code != 200:
                    failures.append(f"{response.status_code}: {response.text[:200]}")

            yield post

    latencies, wall = closed_loop(connection, clients, total)
    return {
        "requests": total,
        "errors": len(failures),
        "first_error": failures[0] if failures else None,
        "rps": total / wall,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def floor_p50_ms(url: str, n: int) -> float:
    """p50 of GET /healthz at 1 client: HTTP, uvicorn and the middleware, no key, no work."""
    latencies = []
    with RawClient(url) as client:
        for _ in range(n):
            started = time.perf_counter()
            status, _ = client.get("/healthz")
            latencies.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"GET /healthz: {status}")
    return percentile(latencies, 0.5) * 1000


def overhead(
    url: str, endpoint: str, headers: dict[str, str], inproc: InProcess, n: int
) -> dict[str, float]:
    """`n` requests at concurrency 1, each followed by the same question in process. The
    requests go out on bench/raw_http.py's socket client (httpx adds 0.8-0.9 ms of its own
    Python to each request's latency)."""
    api_s: list[float] = []
    run_s: list[float] = []
    save_s: list[float] = []
    with RawClient(url, headers) as client:
        for i in range(n):
            question = QUESTIONS[i % len(QUESTIONS)]
            started = time.perf_counter()
            status, body = client.post_json(endpoint, body_for(endpoint, question))
            api_s.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"POST {endpoint}: {status} {body[:200]!r}")
            ran, saved = inproc.answer_split(question)
            run_s.append(ran)
            save_s.append(saved)
    both = [a + b for a, b in zip(run_s, save_s, strict=True)]
    api, pipeline, with_save = (percentile(x, 0.5) * 1000 for x in (api_s, run_s, both))
    return {
        "api_p50_ms": api,
        "pipeline_p50_ms": pipeline,
        "save_p50_ms": percentile(save_s, 0.5) * 1000,
        "vs_pipeline_ms": api - pipeline,
        "vs_pipeline_and_save_ms": api - with_save,
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| mode | database | processes | endpoint | clients | req/s | req/s per core "
        "| p50 ms | p99 ms | errors | groups per request | traces per commit |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        groups = f"{r['groups_per_request']:.2f}" if "groups_per_request" in r else ""
        commits = f"{r['traces_per_commit']:.1f}" if "traces_per_commit" in r else ""
        lines.append(
            f"| {r['mode']} | {r['database']} | {r['processes']} | {r['endpoint']} | "
            f"{r['concurrency']} | {r['rps']:.0f} | {r['rps'] / CORES:.0f} | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} | {groups} | {commits} |"
        )
    return "\n".join(lines)


def overhead_table(overheads: dict[str, dict[str, float]]) -> str:
    lines = [
        "| database, endpoint | API p50, 1 client | in-process pipeline p50 | trace save p50 "
        "| overhead vs pipeline | vs pipeline + save |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, o in overheads.items():
        lines.append(
            f"| {name} | {o['api_p50_ms']:.2f} | {o['pipeline_p50_ms']:.2f} | "
            f"{o['save_p50_ms']:.2f} | {o['vs_pipeline_ms']:.2f} | "
            f"{o['vs_pipeline_and_save_ms']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="per point")
    parser.add_argument("--endpoints", default="answers,chat", help="answers,chat")
    parser.add_argument("--no-inprocess", action="store_true", help="API points only")
    deployment_args(parser)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "api_load.json")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="symoe-api-load-"))
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path) -> None:
    results: list[dict[str, Any]] = []
    overheads: dict[str, dict[str, float]] = {}
    floor = float("nan")
    for db, config, home in deployments(args, tmp):
        inproc = InProcess(settings_of(config))  # migrates before the servers start
        try:
            floor = measure(args, db, config, home, inproc, results, overheads)
        finally:
            inproc.close()
    record = {
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "machine": {
            "cpus": CORES,
            "load_average_1m": os.getloadavg()[0],
            "python": platform.python_version(),
        },
        "config": {
            "experts": args.experts,
            "tagger": args.tagger,
            "window_ms": args.window_ms,
            "group_ms": args.group_ms,
        },
        "results": results,
        "overhead": overheads,
        "healthz_p50_ms": floor,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1))
    print(table(results))
    print()
    print(overhead_table(overheads))
    print(f"\nGET /healthz p50 at 1 client (HTTP floor, no key): {floor:.2f} ms")
    print(f"written to {args.out}")


def measure(
    args: argparse.Namespace,
    db: str,
    config: dict[str, str],
    home: Path,
    inproc: InProcess,
    results: list[dict[str, Any]],
    overheads: dict[str, dict[str, float]],
) -> float:
    """One database's points (appended to `results`, `overheads`); the HTTP floor."""
    levels = [int(c) for c in args.concurrency.split(",")]
    named = {"answers": ANSWERS, "chat": CHAT}
    endpoints = [named[e] for e in args.endpoints.split(",")]
    floor = float("nan")
    for q in QUESTIONS:
        inproc.answer(q)
    if not args.no_inprocess:
        for clients in levels:
            point = inproc.load(QUESTIONS, clients, args.requests)
            results.append(_row("in-process", db, 1, ANSWERS, clients, point))
    for n in [int(p) for p in args.processes.split(",")]:
        with serving(config, home, n) as served:
            for endpoint in endpoints:
                for clients in levels:
                    point = load(served.url, endpoint, served.headers, clients, args.requests)
                    results.append(_row("api", db, n, endpoint, clients, point))
                if n == 1:
                    overheads[f"{db}, {endpoint}"] = overhead(
                        served.url, endpoint, served.headers, inproc, args.requests
                    )
            if n == 1:
                floor = floor_p50_ms(served.url, args.requests)
    return floor


def _row(
    mode: str, db: str, processes: int, endpoint: str, clients: int, point: dict[str, Any]
) -> dict[str, Any]:
    row = {"mode": mode, "database": db, "processes": processes, "endpoint": endpoint}
    row |= {"concurrency": clients, **point}
    print(
        f"{mode} {db} x{processes} {endpoint} {clients} clients: {point['rps']:.0f} req/s, "
        f"p99 {point['p99_ms']:.1f} ms",
        file=sys.stderr,
    )
    return row


if __name__ == "__main__":
    main()
