"""What Metrics.observe_batch counts, from a batch's traces."""

from __future__ import annotations

from orchestrator.api.metrics import Metrics
from orchestrator.trace import (
    BatchReport,
    ModelCall,
    Passage,
    Recruitment,
    RetrievalDecision,
    SkillTagging,
    Trace,
)


def _trace(query_id: str, retrieval: RetrievalDecision) -> Trace:
    calls = [
        ModelCall(stage="experts", expert="a", slot=0, text="x", prompt_tokens=100),
        ModelCall(stage="experts", expert="b", slot=1, text="y", prompt_tokens=90),
        ModelCall(stage="aggregate", expert="c", text="z", prompt_tokens=50),
    ]
    return Trace(
        query_id=query_id,
        question="?",
        tagging=SkillTagging(method="fixed"),
        recruitment=Recruitment(recruiter="symbolic", profile_set=None, drawn=["a", "b"]),
        retrieval=retrieval,
        calls=calls,
    )


def test_retrieval_cost_is_counted_per_expert_call() -> None:
    passage = Passage(number=1, chunk_id=3, source="s", text="t", score=0.5)
    retrieved = RetrievalDecision(
        gate="always", retrieve=True, passages=[passage], passage_tokens=30, search_seconds=0.02
    )
    report = BatchReport(
        batch_id="b", traces=[_trace("q1", retrieved), _trace("q2", RetrievalDecision())]
    )
    metrics = Metrics()
    metrics.observe_batch(report)
    text = metrics.render().decode()
    assert 'symoe_retrievals_total{decision="retrieved"} 1.0' in text
    assert 'symoe_retrievals_total{decision="skipped"} 1.0' in text
    # 30 passage tokens in each of the two expert prompts; the aggregator saw none
    assert "symoe_retrieval_prompt_tokens_total 60.0" in text
    assert "symoe_search_seconds_count 1.0" in text
    assert "symoe_search_seconds_sum 0.02" in text
    assert 'symoe_tokens_total{kind="prompt"} 480.0' in text
