"""A batch of 20 queries through a real `symoe worker` subprocess hosting the local llama.cpp
experts: every query is answered and each expert is loaded once. The groups name the models
only; the worker finds them under its own SYMOE_DATA_DIR."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.experts import load_experts
from orchestrator.plan import BatchOptions, Query
from orchestrator.runners import CeleryRunner
from tests.celery_support import BACKEND, BROKER, client_app, flush_redis, running_worker
from tests.orchestrator.conftest import build_answering

pytestmark = [pytest.mark.redis, pytest.mark.llamacpp, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
DEFAULT_EXPERTS = REPO / "orchestrator" / "defaults" / "experts.yaml"


@pytest.fixture(autouse=True)
def clean_redis() -> Iterator[None]:
    flush_redis()
    yield
    flush_redis()


def test_twenty_queries_through_a_worker_with_the_local_models(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    registry = load_experts(DEFAULT_EXPERTS)
    worker_models = Path(cli_env["SYMOE_DATA_DIR"]) / "models"  # the worker's, not ours
    env = {
        **cli_env,
        "SYMOE_EXPERTS_FILE": str(DEFAULT_EXPERTS),
        "SYMOE_BROKER_URL": BROKER,
        "SYMOE_RESULT_BACKEND": BACKEND,
    }
    app = client_app()
    runner = CeleryRunner(app, timeout_s=300, retries=0)
    pipeline = build_answering(registry, runner)
    questions = [f"What is {a} + {a + 1}? Answer with a number." for a in range(20)]
    with running_worker(app, env, tmp_path / "worker.log"):
        report = pipeline.answer(
            [Query(text=q) for q in questions],
            BatchOptions(
                k=3,
                aggregation="llm",
                aggregator="smollm2-135m",
                expert_max_tokens=12,
                aggregator_max_tokens=12,
            ),
        )
        inspected = app.control.inspect(timeout=5).stats() or {}
    log = (tmp_path / "worker.log").read_text()
    assert len(report.traces) == 20
    assert all(t.answer.strip() and not t.error for t in report.traces), log[-3000:]
    drawn = {name for t in report.traces for name in t.recruitment.drawn}
    stage = {t.stage: t for t in report.stages}
    assert stage["experts"].loads == stage["experts"].groups == len(drawn)
    (worker,) = inspected.values()
    pool = worker["symoe_pool"]
    assert pool["loads"] == len(drawn | {"smollm2-135m"})  # each expert loaded exactly once
    assert all(n == 1 for n in pool["loads_by_model"].values())
    # Gemma is a chunked package: the worker assembled it into its own models_dir
    assert "gemma3-270m" in pool["loads_by_model"]
    assert (worker_models / "gemma-3-270m-q4_k_m.gguf").is_file()
