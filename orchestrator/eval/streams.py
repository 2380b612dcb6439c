"""One stream's files (a method and seed, or a workflow): its predictions rows (JSONL,
appended per chunk) and its cumulative cost (progress/*.json), both kept across resumptions."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field

from orchestrator.benchmarks import BenchItem, is_correct
from orchestrator.benchmarks.qa_metrics import exact_match, hotpot_f1
from orchestrator.eval.config import Method
from orchestrator.trace import BatchReport, Trace

Progress = Callable[[str, int, int], None]  # (stream label, items done now, stream total)


class StreamStats(BaseModel):
    """Cumulative cost of one stream, kept across resumptions."""

    seconds: float = 0.0
    model_calls: int = 0  # traced model calls (every stage's), absent before it was counted
    loads_per_stage: dict[str, int] = Field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # retrieval's cost: queries that retrieved, prompt tokens their passages added to expert
    # calls, and the time spent searching
    retrievals: int = 0
    retrieval_prompt_tokens: int = 0
    search_seconds: float = 0.0

    def add(self, report: BatchReport, seconds: float) -> None:
        """Count one answered chunk (or one batch of a workflow run)."""
        self.seconds += seconds
        for st in report.stages:
            self.loads_per_stage[st.stage] = self.loads_per_stage.get(st.stage, 0) + st.loads
        for t in report.traces:
            self.model_calls += len(t.calls)
            self.prompt_tokens += t.prompt_tokens
            self.completion_tokens += t.completion_tokens
            if t.retrieval.retrieve:
                experts = sum(1 for c in t.calls if c.stage == "experts")
                self.retrievals += 1
                self.retrieval_prompt_tokens += t.retrieval.passage_tokens * experts
                self.search_seconds += t.retrieval.search_seconds


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def read_rows(path: Path) -> list[dict[str, object]]:
    """Rows of a predictions file; a torn last line (killed mid-write) is dropped."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return rows


def open_stream(pred_path: Path, prog_path: Path) -> tuple[list[dict[str, object]], StreamStats]:
    """A stream's rows so far and its cost so far; a torn last line (a run killed mid-write)
    is cut off the file, so the next append starts on a clean line."""
    rows = read_rows(pred_path)
    if pred_path.exists() and len(rows) != len(pred_path.read_text().splitlines()):
        atomic_write(pred_path, "".join(json.dumps(r) + "\n" for r in rows))
    stats = (
        StreamStats.model_validate_json(prog_path.read_text())
        if prog_path.exists()
        else StreamStats()
    )
    return rows, stats


def append_rows(path: Path, rows: list[dict[str, object]]) -> None:
    """One write per chunk, flushed to disk: a chunk is in the file whole or not at all
    (but for a torn last line, which open_stream cuts off)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in rows))
        fh.flush()
        os.fsync(fh.fileno())


def qa_scores(pred: str | None, item: BenchItem) -> dict[str, object]:
    """Free-form answers are also scored as QA sets score them (SQuAD EM, HotpotQA F1)."""
    if item.fmt != "free":
        return {}
    return {"em": exact_match(pred, item.answer), "f1": hotpot_f1(pred, item.answer)}


def prediction_row(method: Method, seed: int, item: BenchItem, trace: Trace) -> dict[str, object]:
    expert_calls = [c for c in trace.calls if c.stage == "experts"]
    any_correct = any(is_correct(c.extracted, item.answer, item.fmt) for c in expert_calls)
    correct = is_correct(trace.extracted_answer, item.answer, item.fmt)
    return {
        "method": method.name,
        "seed": seed,
        "item_id": item.id,
        "category": item.category,
        "gold": item.answer,
        "pred": trace.extracted_answer,
        "correct": any_correct if method.name == "oracle" else correct,
        "any_correct": any_correct,
        "experts": trace.recruitment.drawn,
        "aggregator": trace.recruitment.aggregator,
        "prompt_tokens": trace.prompt_tokens,
        "retrieved": trace.retrieval.retrieve,
        "sources": [p.source for p in trace.retrieval.passages],
        "completion_tokens": trace.completion_tokens,
        "model_calls": len(trace.calls),
        "expert_calls": len(expert_calls),
        **qa_scores(trace.extracted_answer, item),
    }
