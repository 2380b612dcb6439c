"""The admin dashboard's pages under load, at the sizes the issue names: 22 experts, a profile
set of 22 experts x 500 skills, 100,000 stored queries and 1,000 jobs.

Seeding (once per data dir, kept for reruns): the experts are scripted; one batch of
`--batch` distinct questions is answered through the real answering service (tagging,
recruiting, the committee, a vote), and its traces are stored again under new ids until
`--queries` are stored, as many batches; the jobs are made through the job store and
cancelled (so the server's executor does not start answering them). Then a real
`symoe serve` runs on that data dir; the bench logs in through the login form like a browser,
finds the pages from the overview's navigation (so a new page is measured without editing
this script) plus the first detail link of each list page, and requests each page
`--requests` times from `--clients` concurrent clients. Prints p50 / p95 / max per page and
writes bench/results/dashboard_pages.json.

    .venv/bin/python bench/dashboard_pages.py                      # SQLite under a temp dir
    .venv/bin/python bench/dashboard_pages.py --home /tmp/dash-bench --requests 60 --clients 8
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import yaml

from orchestrator.api.process import create_key, running_server
from orchestrator.factory import Deployment
from orchestrator.options import RequestedOptions, batch_options
from orchestrator.plan import Query
from orchestrator.settings import Settings
from skills.profiles import ProfileSet, SkillScore

EXPERTS = 22
SKILLS = 500
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def seed(home: Path, queries: int, jobs: int, batch: int) -> None:
    marker = home / "seeded.json"
    if marker.exists():
        print(f"seeded before: {marker.read_text().strip()}")
        return
    experts = [
        {
            "name": f"x{i:02d}",
            "backend": "scripted",
            "model": f"scripted/x{i:02d}",
            "roles": ["expert", "aggregator"],
            "options": {"default": f"x{i:02d} thinks. The answer is ({'ABCD'[i % 4]})."},
        }
        for i in range(EXPERTS)
    ]
    (home / "experts.yaml").write_text(yaml.safe_dump({"experts": experts}))
    dep = Deployment(settings_for(home))
    skills = [f"skill {n:03d}" for n in range(SKILLS)]
    profile = ProfileSet(
        name="bench-22x500",
        command="bench/dashboard_pages.py",
        experts={
            e["name"]: {
                s: SkillScore(score=((i * 7 + n * 13) % 9) - 4, count=5 + (i + n) % 20)
                for n, s in enumerate(skills)
            }
            for i, e in enumerate(experts)
        },
        accuracy={e["name"]: 0.3 + 0.02 * i for i, e in enumerate(experts)},
    )
    dep.stores.profile_sets.save_profile_set(profile, activate=True)
    started = time.perf_counter()
    options = batch_options(dep.settings, RequestedOptions(k=3, aggregation="vote"))
    questions = [
        Query(text=f"Question {n}: which option fits {skills[n % SKILLS]}? (A) a (B) b (C) c")
        for n in range(batch)
    ]
    report = dep.answering().answer(questions, options)  # stores this batch itself
    stored = len(report.traces)
    while stored < queries:
        copy_id = uuid.uuid4().hex
        traces = [
            t.model_copy(update={"query_id": uuid.uuid4().hex, "batch_id": copy_id})
            for t in report.traces[: queries - stored]
        ]
        dep.stores.traces.save_batch(
            report.model_copy(update={"batch_id": copy_id, "traces": traces})
        )
        stored += len(traces)
        print(f"\rqueries stored: {stored}", end="", flush=True)
    print(f"\n{stored} queries in {time.perf_counter() - started:.0f} s")
    for n in range(jobs):
        job_id = uuid.uuid4().hex
        dep.stores.jobs.create(
            job_id, None, None, {"k": 3}, [f"job {n} question {i}" for i in range(5)]
        )
        dep.stores.jobs.cancel(job_id)
    dep.close()
    marker.write_text(
        json.dumps({"queries": stored, "jobs": jobs, "experts": EXPERTS, "skills": SKILLS})
    )


def settings_for(home: Path) -> Settings:
    return Settings(data_dir=home, experts_file=home / "experts.yaml", profile_file=None)


def env_for(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SYMOE_DATA_DIR": str(home),
        "SYMOE_EXPERTS_FILE": str(home / "experts.yaml"),
        "SYMOE_PROFILE_FILE": "",
        "SYMOE_API_RATE_LIMIT_PER_MINUTE": "0",
        "HF_HUB_OFFLINE": "1",
    }


def logged_in(url: str, key: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60, follow_redirects=True)
    page = client.get("/admin/login")
    token = CSRF.search(page.text)
    assert token, "the login page has no CSRF field"
    done = client.post("/admin/login", data={"key": key, "csrf_token": token.group(1)})
    assert done.status_code == 200 and "Log out" in done.text, done.text[:300]
    return client


def pages_to_measure(client: httpx.Client) -> list[str]:
    """The navigation's pages, then the first detail link found on each list page."""
    overview = client.get("/admin").text
    pages = re.findall(r"<nav>(.*?)</nav>", overview, re.S)
    found = re.findall(r'href="(/admin[^"#?]*)"', pages[0]) if pages else ["/admin"]
    details = []
    for path in found:
        if path == "/admin":
            continue
        html = client.get(path).text
        link = re.search(rf'href="({re.escape(path)}/[^"/?#]+)"', html)
        if link:
            details.append(link.group(1))
    return list(dict.fromkeys(found + details))


def timed_get(client: httpx.Client, path: str) -> tuple[float, int]:
    started = time.perf_counter()
    status = client.get(path).status_code
    return time.perf_counter() - started, status


def measure(
    url: str, key: str, paths: list[str], requests: int, clients: int
) -> list[dict[str, Any]]:
    sessions = [logged_in(url, key) for _ in range(clients)]
    rows = []
    for path in paths:
        with ThreadPoolExecutor(max_workers=clients) as pool:
            done = list(pool.map(lambda n: timed_get(sessions[n % clients], path), range(requests)))  # noqa: B023
        times = sorted(t for t, _ in done)
        rows.append(
            {
                "page": path,
                "status": sorted({code for _, code in done}),
                "p50_ms": round(statistics.median(times) * 1000, 1),
                "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)] * 1000, 1),
                "max_ms": round(times[-1] * 1000, 1),
            }
        )
        print(f"{path}: p95 {rows[-1]['p95_ms']} ms", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, help="data dir (kept: seeded once); default: temp")
    parser.add_argument("--queries", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=40, help="per page")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--seed-only", action="store_true", help="seed --home and stop")
    parser.add_argument("--out", type=Path, default=Path("bench/results/dashboard_pages.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="symoe-dash-bench-") as tmp:
        home = args.home or Path(tmp)
        home.mkdir(parents=True, exist_ok=True)
        seed(home, args.queries, args.jobs, args.batch)
        if args.seed_only:
            return
        env = env_for(home)
        key = create_key(env, role="admin", name="bench")
        with running_server(env, home / "serve.log") as server:
            client = logged_in(server.url, key)
            paths = pages_to_measure(client)
            rows = measure(server.url, key, paths, args.requests, args.clients)
    result = {
        "sizes": vars(args) | {"home": str(args.home)},
        "pages": rows,
        "load_average": os.getloadavg(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=str))
    print("\n| page | status | p50 ms | p95 ms | max ms |\n|---|---|---:|---:|---:|")
    for r in rows:
        codes = ", ".join(map(str, r["status"]))
        print(f"| `{r['page']}` | {codes} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} |")


if __name__ == "__main__":
    main()
