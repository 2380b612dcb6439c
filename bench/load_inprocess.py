"""The API's work without HTTP: the objects a server builds (ApiServices: the micro-batching
runner, the answering service, the group-committing trace writer), called from threads.
What the API adds on top is the HTTP layer, the key check and the JSON response."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from orchestrator.api.answers.schemas import AnswerRequest
from orchestrator.api.services import ApiServices
from orchestrator.options import Budgets, RequestedOptions, batch_options
from orchestrator.plan import Query
from orchestrator.runners import MicroBatchingRunner
from orchestrator.settings import Settings


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


class InProcess:
    def __init__(self, settings: Settings) -> None:
        self.services = ApiServices(settings)
        self.options = batch_options(settings, RequestedOptions(), Budgets.of(settings))

    def answer(self, question: str) -> None:
        """As POST /v1/answers does: plan, run, store (returns once committed)."""
        self.services.answers.answer(AnswerRequest(question=question))

    def answer_split(self, question: str) -> tuple[float, float]:
        """Seconds to plan and execute, and seconds to store the trace (group commit)."""
        started = time.perf_counter()
        report = self.services.answering.answer([Query(text=question)], self.options, record=False)
        ran = time.perf_counter()
        self.services.trace_writer.save(report)
        return ran - started, time.perf_counter() - ran

    def counters(self) -> dict[str, int]:
        runner = self.services.runner
        merged = runner.stats.as_dict() if isinstance(runner, MicroBatchingRunner) else {}
        return {
            **merged,
            **{f"trace_{k}": v for k, v in self.services.trace_writer.stats.as_dict().items()},
        }

    def load(self, questions: list[str], clients: int, total: int) -> dict[str, Any]:
        """`total` answers from `clients` threads; with the groups and commits they took."""
        before = self.counters()

        def answer(i: int) -> None:
            self.answer(questions[i % len(questions)])

        latencies, wall = closed_loop(lambda: nullcontext(answer), clients, total)
        after = self.counters()
        delta = {k: after[k] - before.get(k, 0) for k in after}
        return {
            "requests": total,
            "errors": 0,
            "rps": total / wall,
            "p50_ms": percentile(latencies, 0.50) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
            "groups_per_request": delta.get("groups_sent", 0) / total,
            "groups_in_per_request": delta.get("groups_in", 0) / total,
            "traces_per_commit": delta["trace_reports"] / max(1, delta["trace_commits"]),
        }

    def close(self) -> None:
        self.services.close()
