"""Micro-batching of one checkout against another's, in process, with a harness that only
uses what both have (`Deployment.make_runner(microbatch=True)`, `Deployment.answering`):
req/s, p50/p99 and merged groups per request at 1, 8 and 32 client threads, over 8 scripted
experts whose every group takes GROUP_MS (as a model's batch does), k=3, vote.
Its questions and client threads are bench/load_setup.py's (which runs on older checkouts too).

    .venv/bin/python bench/microbatch_before_after.py 20
    git worktree add /tmp/old <commit>
    (cd /tmp/old && PYTHONPATH=/tmp/old <repo>/.venv/bin/python \\
        <repo>/bench/microbatch_before_after.py 20)
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import yaml
from load_setup import QUESTIONS, closed_loop

from orchestrator.factory import Deployment
from orchestrator.options import Budgets, RequestedOptions, batch_options
from orchestrator.plan import Query
from orchestrator.settings import Settings


def main(group_ms: float) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="symoe-microbatch-"))
    delay = {"delay_s": group_ms / 1000} if group_ms else {}
    experts = [
        {
            "name": f"e{i}",
            "backend": "scripted",
            "model": f"scripted/e{i}",
            "roles": ["expert"],
            "options": {"default": f"e{i}. The answer is (B).", **delay},
        }
        for i in range(8)
    ]
    (tmp / "experts.yaml").write_text(yaml.safe_dump({"experts": experts}))
    settings = Settings(
        data_dir=tmp / "home",
        experts_file=tmp / "experts.yaml",
        profile_file=None,
        aggregation="vote",
        tagger="embedding",
    )
    deployment = Deployment(settings)
    runner = deployment.make_runner(microbatch=True)
    answering = deployment.answering(runner=runner)
    options = batch_options(settings, RequestedOptions(), Budgets.of(settings))
    for q in QUESTIONS:  # warm-up: embeddings
        answering.answer([Query(text=q)], options)
    stats = getattr(runner, "stats", None)
    for clients in (1, 8, 32):
        n = 160 if group_ms else 300
        sent_before = stats.groups_sent if stats else 0
        wall, latencies = _load(lambda q: answering.answer([Query(text=q)], options), clients, n)
        groups = (stats.groups_sent - sent_before) / n if stats else float("nan")
        print(
            f"group_ms={group_ms:g} clients={clients}: {n / wall:.0f} req/s, "
            f"p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
            f"p99 {latencies[int(0.99 * (len(latencies) - 1))] * 1000:.1f} ms, "
            f"groups/request {groups:.2f}"
        )
    runner.close()


def _load(answer: Callable[[str], object], clients: int, n: int) -> tuple[float, list[float]]:
    """`n` answers from `clients` threads: the wall time, each answer's seconds (sorted)."""

    def call(i: int) -> None:
        answer(QUESTIONS[i % len(QUESTIONS)])

    latencies, wall = closed_loop(lambda: nullcontext(call), clients, n)
    return wall, sorted(latencies)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 20.0)
