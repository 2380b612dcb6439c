"""A stream's prediction rows and cost counters."""

from __future__ import annotations

import pytest

from orchestrator.benchmarks import BenchItem
from orchestrator.eval.config import Method
from orchestrator.eval.streams import StreamStats, prediction_row
from orchestrator.recruiters import FixedRecruiter, RecruiterOptions
from orchestrator.trace import (
    BatchReport,
    ModelCall,
    Recruitment,
    RetrievalDecision,
    SkillTagging,
    StageTiming,
    Trace,
)


def _trace(extracted: str, retrieve: bool = False) -> Trace:
    return Trace(
        query_id="q",
        question="?",
        tagging=SkillTagging(method="fixed"),
        recruitment=Recruitment(recruiter="fixed", profile_set=None, drawn=["a"]),
        retrieval=RetrievalDecision(retrieve=retrieve, passage_tokens=40, search_seconds=0.5),
        calls=[
            ModelCall(
                stage="experts",
                expert="a",
                text=extracted,
                extracted=extracted,
                prompt_tokens=10,
                completion_tokens=3,
            ),
            ModelCall(stage="experts", expert="a", slot=1, text=extracted, prompt_tokens=10),
        ],
        extracted_answer=extracted,
    )


METHOD = Method(
    name="best-single",
    recruiter=FixedRecruiter(None, 0, RecruiterOptions(committee=["a"])),
    aggregation="vote",
    k=1,
)


@pytest.mark.parametrize(
    ("pred", "gold", "em", "f1"),
    [("The Beatles", "Beatles", 1.0, 1.0), ("Paul McCartney", "McCartney", 0.0, 2 / 3)],
)
def test_free_form_rows_carry_em_and_f1(pred: str, gold: str, em: float, f1: float) -> None:
    item = BenchItem(id="1", question="?", answer=gold, fmt="free", category="bridge")
    row = prediction_row(METHOD, 0, item, _trace(pred))
    assert row["em"] == em and row["f1"] == pytest.approx(f1)
    letter = BenchItem(id="2", question="?", answer="B", fmt="letter", category="x")
    assert "f1" not in prediction_row(METHOD, 0, letter, _trace("B"))


def test_stream_stats_count_retrieval_per_expert_call() -> None:
    stats = StreamStats()
    timing = StageTiming(stage="experts", seconds=1.0, groups=1, loads=1)
    stats.add(BatchReport(batch_id="b", traces=[_trace("A", retrieve=True), _trace("A")],
                          stages=[timing]), 2.0)  # fmt: skip
    assert (stats.retrievals, stats.retrieval_prompt_tokens) == (1, 80)  # 40 tokens x 2 calls
    assert stats.search_seconds == 0.5 and stats.seconds == 2.0
    assert (stats.prompt_tokens, stats.completion_tokens) == (40, 6)
    assert stats.loads_per_stage == {"experts": 1}
