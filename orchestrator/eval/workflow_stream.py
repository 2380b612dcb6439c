"""A workflow as an eval stream (`symoe eval run --workflows research`): each item's question
runs through the deployment's workflow service as `symoe workflow run` would run it, and the
answer extracted from the final answer is graded like a method's.

The stream is `workflow-<name>__seed<first seed>` beside the methods' streams, with rows in
their format (eval/streams.py) plus the run's id, its error and its model calls. A workflow
run is one item's unit of work (minutes on a CPU), so rows are appended item by item: a
killed run resumes at the first item without a row. Cost is counted per item from the
batches the run's answering service answers (every role call and every sub-question), so it
is this stream's own, whatever else shares the database. A refused or failed run is a wrong
row with its `error`, never a crash.

The workflow's sub-questions are answered with this run's k, aggregation, expert token
budget, retrieval and first seed; tagging and the profile set are the deployment's (as
`symoe ask` answers), so `--profile-split none` compares it with symoe on equal terms."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from orchestrator.answers import extract
from orchestrator.benchmarks import BenchItem, is_correct
from orchestrator.errors import ConfigError, InputError
from orchestrator.eval.config import EvalConfig, workflow_stream_name
from orchestrator.eval.streams import (
    Progress,
    StreamStats,
    append_rows,
    atomic_write,
    open_stream,
    qa_scores,
)
from orchestrator.factory import Deployment
from orchestrator.runners import Runner
from orchestrator.trace import BatchReport
from orchestrator.workflows.engine import WorkflowFailed
from orchestrator.workflows.service import WorkflowService


def check_workflow(dep: Deployment, entry: str) -> str:
    """The stream name of a --workflows entry, once the deployment knows the workflow, its
    roles' experts exist and its tools and supervisors can be built (else InputError or
    ConfigError, before the run writes anything)."""
    if dep.settings.workflow_runner != "inprocess":
        raise ConfigError(
            "--workflows counts each run's model calls in this process: set "
            "SYMOE_WORKFLOW_RUNNER=inprocess for the evaluation"
        )
    service = dep.workflows()
    _, spec, _, path = service.load(entry)
    experts = {e.name for e in dep.registry.all()}
    for role_name, role in spec.roles.items():
        if role.expert not in experts:
            raise InputError(
                f"workflow {entry!r} ({path}): role {role_name!r} names expert "
                f"{role.expert!r}, which {dep.settings.experts_file} lacks"
            )
    service.engine(spec)  # its tools and supervisors, checked against its roles
    return workflow_stream_name(entry)


class WorkflowStream:
    def __init__(self, dep: Deployment, config: EvalConfig, entry: str, retrieval: str) -> None:
        self.dep = dep
        self.config = config
        self.entry = entry
        self.name = workflow_stream_name(entry)
        self.seed = config.seeds[0]  # a workflow run is costly: once per item, first seed
        self.retrieval = retrieval
        self._lock = threading.Lock()  # sub-questions are answered on several threads
        self._reports: list[BatchReport] = []

    def _observe(self, report: BatchReport) -> None:
        with self._lock:
            self._reports.append(report)

    def _service(self, runner: Runner) -> WorkflowService:
        service = self.dep.workflows(runner)
        # every batch the runs answer is observed here: that is the item's cost
        service.answering = self.dep.answering(runner=runner, observe=self._observe)
        service.options = service.options.model_copy(
            update={
                "k": self.config.k,
                "aggregation": self.config.aggregation,
                "retrieval": self.retrieval,
                "seed": self.seed,
                **({"expert_max_tokens": self.config.max_tokens} if self.config.max_tokens else {}),
            }
        )
        return service

    def run(self, items: list[BenchItem], out: Path, progress: Progress | None = None) -> None:
        stem = f"{self.name}__seed{self.seed}"
        pred_path = out / "predictions" / f"{stem}.jsonl"
        prog_path = out / "progress" / f"{stem}.json"
        rows, stats = open_stream(pred_path, prog_path)
        done = {str(r["item_id"]) for r in rows}
        todo = [i for i in items if i.id not in done]
        if progress and done:
            progress(stem, len(done), len(items))
        if not todo:
            return
        # A fresh pool per stream, as for a method: its loads are what the workflow costs.
        runner = self.dep.make_runner()
        service = self._service(runner)
        try:
            for item in todo:
                append_rows(pred_path, [self.answer(service, item, stats)])
                atomic_write(prog_path, stats.model_dump_json())
                if progress:
                    progress(stem, 1, len(items))
        finally:
            runner.close()

    def answer(
        self, service: WorkflowService, item: BenchItem, stats: StreamStats
    ) -> dict[str, Any]:
        """One item's workflow run, graded, with its cost (added to `stats`)."""
        with self._lock:
            self._reports = []
        started = time.perf_counter()
        run_id, outputs, error = None, {}, None
        try:
            run_id, engine = service.start(self.entry, item.question)
            outputs = engine.run(run_id, item.question)
        except (InputError, WorkflowFailed) as exc:  # e.g. a question over the input limit
            error = str(exc)
        seconds = time.perf_counter() - started
        with self._lock:
            reports, self._reports = self._reports, []
        for report in reports:
            stats.add(report, 0.0)
        stats.seconds += seconds
        final = next((o for o in outputs.values() if "answer" in o and "cited" in o), {})
        answer = str(final.get("answer", ""))
        pred = extract(answer, item.fmt) if error is None else None
        traces = [t for r in reports for t in r.traces]
        experts = list(dict.fromkeys(e for t in traces for e in t.recruitment.drawn))
        return {
            "method": self.name,
            "seed": self.seed,
            "item_id": item.id,
            "category": item.category,
            "gold": item.answer,
            "pred": pred,
            "correct": error is None and is_correct(pred, item.answer, item.fmt),
            "any_correct": None,  # no committee of its own to be right in
            "experts": experts,
            "aggregator": None,
            "prompt_tokens": sum(t.prompt_tokens for t in traces),
            "retrieved": any(t.retrieval.retrieve for t in traces),
            "sources": list(dict.fromkeys(p.source for t in traces for p in t.retrieval.passages)),
            "completion_tokens": sum(t.completion_tokens for t in traces),
            "model_calls": sum(len(t.calls) for t in traces),
            **qa_scores(pred, item),
            "seconds": round(seconds, 3),
            "run_id": run_id,
            "error": error,
            "answer": answer,
            "cited": final.get("cited", []),
        }
