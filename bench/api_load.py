"""API load: requests per second and p50/p99 latency of /v1/answers and /v1/chat/completions
at 1, 8 and 32 concurrent clients, and the API's own overhead per request.

A real `symoe serve` (uvicorn) runs on a free loopback port over scripted experts (instant
answers), vote aggregation and the configured tagger (default: the embedding tagger; its
question embeddings are cached after the warm-up, as a server's would be). A user key is made
with `python -m orchestrator.cli.main keys create` on the same database. The load generator
is this script: httpx clients in threads, one keep-alive connection each; it shares the
machine's cores with the server, which the numbers include.

Overhead = API p50 at concurrency 1 minus the p50 of the same requests run in this process
through a pipeline built as the server builds it (same settings, same runner). The two are
interleaved request by request, so both see the same machine load. It is reported against
the pipeline alone and against pipeline plus storing the trace (the API stores every trace).

    .venv/bin/python bench/api_load.py                  # 300 requests per point
    .venv/bin/python bench/api_load.py --requests 1000 --concurrency 1,8,32,64

Results: bench/results/api_load.json and a Markdown table on stdout.
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
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from orchestrator.api.process import create_key, start_server
from orchestrator.factory import Deployment
from orchestrator.options import Budgets, RequestedOptions, batch_options
from orchestrator.plan import Query
from orchestrator.settings import Settings

REPO = Path(__file__).resolve().parents[1]
CHAT = "/v1/chat/completions"
ANSWERS = "/v1/answers"
QUESTIONS = [
    f"Question {i}: which option is correct? The options are: (A) {i} (B) {i + 1} (C) {i + 2}"
    for i in range(16)
]


def experts(n: int) -> list[dict[str, Any]]:
    return [
        {
            "name": f"e{i}",
            "backend": "scripted",
            "model": f"scripted/e{i}",
            "roles": ["expert"],
            "options": {"default": f"Expert e{i} reasons briefly. The answer is (B)."},
        }
        for i in range(n)
    ]


def body_for(endpoint: str, question: str) -> dict[str, Any]:
    if endpoint == ANSWERS:
        return {"question": question}
    return {"model": "symoe", "messages": [{"role": "user", "content": question}]}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load(
    url: str, endpoint: str, headers: dict[str, str], clients: int, total: int
) -> dict[str, Any]:
    """`total` requests from `clients` threads, each on its own keep-alive connection."""
    latencies: list[float] = []
    failures: list[str] = []
    counter = iter(range(total))
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                body = body_for(endpoint, QUESTIONS[i % len(QUESTIONS)])
                started = time.perf_counter()
                response = client.post(endpoint, json=body)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        failures.append(f"{response.status_code}: {response.text[:200]}")

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {
        "endpoint": endpoint,
        "concurrency": clients,
        "requests": total,
        "errors": len(failures),
        "first_error": failures[0] if failures else None,
        "rps": total / wall,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


class InProcess:
    """The same requests through a pipeline built as ApiServices builds it (same settings,
    same micro-batching runner), its trace stored as the API stores it."""

    def __init__(self, settings: Settings) -> None:
        self.deployment = Deployment(settings)
        self.runner = self.deployment.make_runner(microbatch=True)
        self.answering = self.deployment.answering(runner=self.runner)
        self.traces = self.deployment.stores.traces
        self.options = batch_options(settings, RequestedOptions(), Budgets.of(settings))

    def answer(self, question: str) -> tuple[float, float]:
        """Seconds to plan and execute, and seconds to store the trace."""
        started = time.perf_counter()
        report = self.answering.answer([Query(text=question)], self.options, record=False)
        ran = time.perf_counter()
        self.traces.save_batch(report)
        return ran - started, time.perf_counter() - ran

    def close(self) -> None:
        self.runner.close()
        self.deployment.close()


def floor_p50_ms(url: str, n: int) -> float:
    """p50 of GET /healthz at 1 client: HTTP, uvicorn and the middleware, no key, no work."""
    latencies = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(n):
            started = time.perf_counter()
            client.get("/healthz").raise_for_status()
            latencies.append(time.perf_counter() - started)
    return percentile(latencies, 0.5) * 1000


def overhead(
    url: str, endpoint: str, headers: dict[str, str], inproc: InProcess, n: int
) -> dict[str, float]:
    """`n` requests at concurrency 1, each followed by the same question in process, so
    both see the same moment's machine load; p50 of each and their difference."""
    api_s: list[float] = []
    run_s: list[float] = []
    save_s: list[float] = []
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for i in range(n):
            question = QUESTIONS[i % len(QUESTIONS)]
            started = time.perf_counter()
            client.post(endpoint, json=body_for(endpoint, question)).raise_for_status()
            api_s.append(time.perf_counter() - started)
            ran, saved = inproc.answer(question)
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


def table(results: list[dict[str, Any]], overhead: dict[str, dict[str, float]]) -> str:
    lines = [
        "| endpoint | clients | requests | errors | req/s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['endpoint']} | {r['concurrency']} | {r['requests']} | {r['errors']} | "
            f"{r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} |"
        )
    lines += [
        "",
        "| endpoint | API p50, 1 client | in-process pipeline p50 | trace save p50 "
        "| overhead vs pipeline | vs pipeline + save |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for endpoint, o in overhead.items():
        lines.append(
            f"| {endpoint} | {o['api_p50_ms']:.2f} | {o['pipeline_p50_ms']:.2f} | "
            f"{o['save_p50_ms']:.2f} | {o['vs_pipeline_ms']:.2f} | "
            f"{o['vs_pipeline_and_save_ms']:.2f} |"
        )
    lines.append("\n(milliseconds; overhead from paired, interleaved requests at 1 client)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="per endpoint and level")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--experts", type=int, default=8, help="scripted experts (k=3 drawn)")
    parser.add_argument("--tagger", default="embedding", help="embedding | llm")
    parser.add_argument(
        "--window-ms",
        type=float,
        default=Settings.model_fields["microbatch_window_ms"].default,
        help="micro-batching window of the server (default: the settings' default)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "api_load.json")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]

    tmp = Path(tempfile.mkdtemp(prefix="symoe-api-load-"))
    try:
        run(args, levels, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def server_config(tmp: Path, n_experts: int, tagger: str, window_ms: float) -> dict[str, str]:
    """The benchmark server's settings (SYMOE_* names without the prefix, lower case): a
    database under `tmp`, `n_experts` scripted experts (their file written there), vote."""
    experts_file = tmp / "experts.yaml"
    experts_file.write_text(yaml.safe_dump({"experts": experts(n_experts)}))
    return {
        "data_dir": str(tmp / "home"),
        "experts_file": str(experts_file),
        "profile_file": "",
        "aggregation": "vote",
        "tagger": tagger,
        "microbatch_window_ms": str(window_ms),
        "api_rate_limit_per_minute": "0",
    }


def server_env(config: dict[str, str]) -> dict[str, str]:
    """This process's environment with `config` as SYMOE_* variables, offline."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.update({f"SYMOE_{k.upper()}": v for k, v in config.items()})
    return env


def run(args: argparse.Namespace, levels: list[int], tmp: Path) -> None:
    config = server_config(tmp, args.experts, args.tagger, args.window_ms)
    env = server_env(config)
    key = create_key(env, name="bench")
    headers = {"Authorization": f"Bearer {key}"}

    settings = Settings(**{k: (None if v == "" else v) for k, v in config.items()})
    inproc = InProcess(settings)  # migrated and synced before the server starts
    server = start_server(env, tmp / "serve.log")
    results: list[dict[str, Any]] = []
    overheads: dict[str, dict[str, float]] = {}
    floor = float("nan")
    endpoints = [ANSWERS]
    try:
        # with the key: the schema is public only when SYMOE_API_PUBLIC_DOCS says so
        paths = httpx.get(f"{server.url}/openapi.json", headers=headers).json()["paths"]
        if CHAT in paths:
            endpoints.append(CHAT)
        else:
            print(f"skipped {CHAT}: this server has no such route yet", file=sys.stderr)
        with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
            for q in QUESTIONS:  # warm-up: model loads, embeddings of the questions
                inproc.answer(q)
                for endpoint in endpoints:
                    client.post(endpoint, json=body_for(endpoint, q)).raise_for_status()
        for endpoint in endpoints:
            for clients in levels:
                results.append(load(server.url, endpoint, headers, clients, args.requests))
                print(f"{endpoint} x{clients}: {results[-1]['rps']:.0f} req/s", file=sys.stderr)
            overheads[endpoint] = overhead(server.url, endpoint, headers, inproc, args.requests)
        floor = floor_p50_ms(server.url, args.requests)
    finally:
        server.stop()
        inproc.close()

    record = {
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1m": os.getloadavg()[0],
            "python": platform.python_version(),
        },
        "config": {**config, "experts": args.experts, "k": settings.k, "levels": levels},
        "skipped": [] if CHAT in endpoints else [CHAT],
        "results": results,
        "overhead": overheads,
        "healthz_p50_ms": floor,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1))
    print(table(results, overheads))
    print(f"GET /healthz p50 at 1 client (HTTP floor, no key): {floor:.2f} ms")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
