"""What the API load benchmarks share: the scripted deployment, the questions and bodies, and
a real `symoe serve` on SQLite or PostgreSQL (a throwaway schema) with one or more processes.

The experts are scripted (instant answers), so the numbers are the orchestration's own cost:
tagging (the embedding tagger, its question vectors cached after the warm-up), recruiting,
micro-batching, voting, storing the trace, and the HTTP API around it.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from orchestrator.api.process import create_key, start_server
from orchestrator.settings import Settings

REPO = Path(__file__).resolve().parents[1]
CHAT = "/v1/chat/completions"
ANSWERS = "/v1/answers"
QUESTIONS = [
    f"Question {i}: which option is correct? The options are: (A) {i} (B) {i + 1} (C) {i + 2}"
    for i in range(16)
]
POSTGRES_URL = os.environ.get(
    "SYMOE_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


Call = Callable[[int], None]


def closed_loop(
    open_client: Callable[[], AbstractContextManager[Call]], clients: int, total: int
) -> tuple[list[float], float]:
    """`total` calls (call(i) for i < total) from `clients` threads, each with the client
    `open_client` gives it, one call after the other: each call's seconds, and the wall time."""
    latencies: list[float] = []
    counter = iter(range(total))
    lock = threading.Lock()

    def worker() -> None:
        with open_client() as call:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                started = time.perf_counter()
                call(i)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - started


def experts(n: int, group_ms: float = 0.0) -> list[dict[str, Any]]:
    """`n` scripted experts; each group they run takes `group_ms` (as a GPU batch would,
    whatever its size), so concurrent requests can meet in one group."""
    options: dict[str, Any] = {"delay_s": group_ms / 1000} if group_ms else {}
    return [
        {
            "name": f"e{i}",
            "backend": "scripted",
            "model": f"scripted/e{i}",
            "roles": ["expert"],
            "options": {"default": f"Expert e{i} reasons briefly. The answer is (B).", **options},
        }
        for i in range(n)
    ]


def body_for(endpoint: str, question: str) -> dict[str, Any]:
    if endpoint == ANSWERS:
        return {"question": question}
    return {"model": "symoe", "messages": [{"role": "user", "content": question}]}


def deployment_args(parser: argparse.ArgumentParser) -> None:
    """The options both load benchmarks share: what is served, where and by how many."""
    parser.add_argument("--concurrency", default="1,8,32,64", help="clients per point")
    parser.add_argument("--databases", default="sqlite", help="sqlite,postgres")
    parser.add_argument("--processes", default="1", help="API processes, e.g. 1,2")
    parser.add_argument("--experts", type=int, default=8, help="scripted experts (k=3 drawn)")
    parser.add_argument("--tagger", default="embedding", help="embedding | llm")
    parser.add_argument(
        "--group-ms", type=float, default=0.0, help="each expert group takes this long (0)"
    )
    parser.add_argument(
        "--window-ms",
        type=float,
        default=Settings.model_fields["microbatch_window_ms"].default,
        help="micro-batching's maximum wait under load (default: the settings' default)",
    )


def server_config(
    tmp: Path, n_experts: int, tagger: str, window_ms: float, group_ms: float = 0.0
) -> dict[str, str]:
    """The benchmark server's settings (SYMOE_* names without the prefix, lower case): a
    database under `tmp`, `n_experts` scripted experts (their file written there), vote."""
    experts_file = tmp / "experts.yaml"
    experts_file.write_text(yaml.safe_dump({"experts": experts(n_experts, group_ms)}))
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


def settings_of(config: dict[str, str]) -> Settings:
    return Settings(**{k: (None if v == "" else v) for k, v in config.items()})  # type: ignore[arg-type]


@contextmanager
def database(kind: str, url: str = POSTGRES_URL) -> Iterator[str]:
    """'' for SQLite under the data dir; for postgres the URL of a fresh schema, dropped after."""
    if kind == "sqlite":
        yield ""
        return
    if kind != "postgres":
        raise SystemExit(f"--databases: sqlite or postgres, not {kind!r}")
    admin = create_engine(url, connect_args={"connect_timeout": 3})
    schema = f"symoe_bench_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def deployments(args: argparse.Namespace, tmp: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    """(database name, server config, its folder) for each of --databases, in its own folder
    under `tmp` (a PostgreSQL schema lives while its iteration does)."""
    for db in args.databases.split(","):
        with database(db) as url:
            home = tmp / db
            home.mkdir()
            config = server_config(home, args.experts, args.tagger, args.window_ms, args.group_ms)
            yield db, {**config, "database_url": url}, home


@dataclass
class Served:
    url: str
    headers: dict[str, str]
    endpoints: list[str]
    pid: int  # the `symoe serve` process (the supervisor, with several processes)

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server's processes have used so far."""
        return sum(_cpu_s(pid) for pid in _tree(self.pid))


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        out.append(todo.pop())
        todo += children.get(out[-1], [])
    return out


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serving(config: dict[str, str], tmp: Path, processes: int) -> Iterator[Served]:
    """`symoe serve` with `config` and `processes` API processes, warmed up: every question
    once on each endpoint through each process (so every process has its embeddings)."""
    env = server_env({**config, "api_workers": str(processes)})
    key = create_key(env, name="bench")
    headers = {"Authorization": f"Bearer {key}"}
    server = start_server(env, tmp / f"serve-{processes}.log")
    try:
        endpoints = [ANSWERS, CHAT]
        # separate connections, so the kernel hands them to different processes
        for _ in range(4 * processes):
            with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
                for q in QUESTIONS:
                    for endpoint in endpoints:
                        client.post(endpoint, json=body_for(endpoint, q)).raise_for_status()
        yield Served(server.url, headers, endpoints, server.proc.pid)
    finally:
        server.stop()
