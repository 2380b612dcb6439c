"""What the API's per-request checks cost, measured in process (the end-to-end numbers of
bench/api_load.py are too noisy on a shared machine to see tens of microseconds):

- the key check: `KeyStore.verify`, one indexed SELECT per request so that a revoked key
  fails at once, on SQLite and (when reachable) on a throwaway PostgreSQL schema;
- the input guard (`refuse_unstorable_input`): a chat request and a 1,000-question job,
  beyond the JSON parsing FastAPI does anyway.

    .venv/bin/python bench/api_request_checks.py [--postgres-url URL]

Results: bench/results/api_request_checks.json and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from starlette.requests import Request

from orchestrator.api.input_guard import refuse_unstorable_input
from orchestrator.db import KeyStore, make_engine, migrate, session_factory

REPO = Path(__file__).resolve().parents[1]
CHAT = {
    "model": "symoe",
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"},
    ],
    "max_tokens": 64,
}
JOB = {"questions": [f"Question {i}: which option? (A) {i} (B) {i + 1}" for i in range(1000)]}


def per_call_us(call: Callable[[], object], n: int) -> float:
    for _ in range(min(n, 50)):
        call()
    started = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - started) / n * 1e6


def verify_us(url: str, n: int) -> float:
    engine = make_engine(url)
    try:
        migrate(engine)
        keys = KeyStore(session_factory(engine))
        key = keys.create("bench", "user").key
        result = per_call_us(lambda: keys.verify(key), n)
        keys.close()
        return result
    finally:
        engine.dispose()


@contextmanager
def postgres_schema(url: str) -> Iterator[str | None]:
    admin = create_engine(url, connect_args={"connect_timeout": 3})
    schema = f"symoe_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError:
        admin.dispose()
        yield None
        return
    try:
        options = {"options": f"-csearch_path={schema}"}
        yield make_url(url).update_query_dict(options).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def guard_us(payload: dict[str, Any], n: int) -> float:
    """The guard's time on a request whose body FastAPI has already read and parsed."""
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"authorization", b"Bearer sk-x")]
    scope = {"type": "http", "method": "POST", "path": "/v1/x", "headers": headers,
             "query_string": b"", "path_params": {}}  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def parsed() -> Request:
        request = Request(scope, receive)
        await request.json()
        return request

    async def run() -> float:
        requests = [await parsed() for _ in range(n)]
        started = time.perf_counter()
        for request in requests:
            await refuse_unstorable_input(request)
        return (time.perf_counter() - started) / n * 1e6

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "SYMOE_BENCH_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench" / "results" / "api_request_checks.json"
    )
    args = parser.parse_args()
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(("key check, SQLite", verify_us(f"sqlite:///{tmp}/keys.db", args.calls)))
    with postgres_schema(args.postgres_url) as url:
        if url is None:
            print(f"skipped PostgreSQL: not reachable at {args.postgres_url}")
        else:
            rows.append(("key check, PostgreSQL", verify_us(url, args.calls)))
    rows.append(("input guard, chat request", guard_us(CHAT, args.calls)))
    rows.append(("input guard, job of 1,000 questions", guard_us(JOB, args.calls // 20)))
    record = {
        "command": "bench/api_request_checks.py",
        "load_average_1m": os.getloadavg()[0],
        "microseconds": dict(rows),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1))
    print("| per request | µs |\n|---|---:|")
    for name, value in rows:
        print(f"| {name} | {value:.1f} |")
    print(f"\nload average (1 min) during the run: {record['load_average_1m']:.2f}")


if __name__ == "__main__":
    main()
