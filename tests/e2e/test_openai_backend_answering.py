"""A whole answer through the answering service with an `openai` expert served by a real
OpenAI-compatible server (llama-cpp-python's, the local SmolLM2 GGUF): tag, recruit, the
expert and the aggregator calls go over HTTP, and the trace records both."""

from __future__ import annotations

import pytest

from orchestrator.experts import Expert, ExpertRegistry
from orchestrator.plan import BatchOptions, Query
from orchestrator.runners import InProcessRunner
from tests.orchestrator.conftest import build_answering
from tests.workers.test_openai_backend import ALIAS, GREEDY, base_url  # noqa: F401 - fixture
from workers.pool import ModelPool

pytestmark = [pytest.mark.llamacpp, pytest.mark.slow]


def test_an_answer_through_an_openai_compatible_server(base_url: str) -> None:  # noqa: F811
    expert = Expert(
        name="remote",
        backend="openai",
        model=ALIAS,
        memory_mb=0,
        roles=["expert", "aggregator"],
        generation=GREEDY,
        options={"base_url": base_url},
    )
    pool = ModelPool(1_000)
    answering = build_answering(ExpertRegistry([expert]), InProcessRunner(pool))
    try:
        report = answering.answer(
            [Query(text="What is the capital of France? Answer in one short sentence.")],
            BatchOptions(k=1, aggregation="llm", aggregator="remote"),
        )
    finally:
        pool.release_all()
    (trace,) = report.traces
    assert trace.error is None and trace.events == []
    assert [(c.stage, c.expert) for c in trace.calls] == [
        ("experts", "remote"),
        ("aggregate", "remote"),
    ]
    assert "Paris" in trace.calls[0].text
    assert trace.answer == trace.calls[1].text and trace.answer.strip()
    assert all(c.prompt_tokens > 0 and c.completion_tokens > 0 for c in trace.calls)
