"""The API's work without HTTP: the objects a server builds (ApiServices: the micro-batching
runner, the answering service, the group-committing trace writer), called from threads.
What the API adds on top is the HTTP layer, the key check and the JSON response."""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Any

from load_setup import closed_loop, percentile

from orchestrator.api.answers.schemas import AnswerRequest
from orchestrator.api.services import ApiServices
from orchestrator.options import Budgets, RequestedOptions, batch_options
from orchestrator.plan import Query
from orchestrator.runners import MicroBatchingRunner
from orchestrator.settings import Settings


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
