"""One (method, seed) stream's files: its predictions rows (JSONL, appended per chunk) and
its cumulative cost (progress/*.json), both kept across resumptions."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field

from orchestrator.benchmarks import BenchItem, is_correct
from orchestrator.benchmarks.qa_metrics import exact_match, hotpot_f1
from orchestrator.eval.config import Method
from orchestrator.trace import BatchReport, Trace


class StreamStats(BaseModel):
    """Cumulative cost of one (method, seed) stream, kept across resumptions."""

    seconds: float = 0.0
    loads_per_stage: dict[str, int] = Field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # retrieval's cost: queries that retrieved, prompt tokens their passages added to expert
    # calls, and the time spent searching
    retrievals: int = 0
    retrieval_prompt_tokens: int = 0
    search_seconds: float = 0.0

    def add(self, report: BatchReport, seconds: float) -> None:
        """Count one answered chunk."""
        self.seconds += seconds
        for st in report.stages:
            self.loads_per_stage[st.stage] = self.loads_per_stage.get(st.stage, 0) + st.loads
        for t in report.traces:
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
        # free-form answers are also scored as QA sets score them (SQuAD EM, HotpotQA F1)
        **(
            {
                "em": exact_match(trace.extracted_answer, item.answer),
                "f1": hotpot_f1(trace.extracted_answer, item.answer),
            }
            if item.fmt == "free"
            else {}
        ),
    }
