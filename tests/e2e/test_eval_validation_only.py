"""Every choice of `symoe eval run`'s profile step (the Beta-prior strength, the learned
aggregator's weights, L2 strength and skill weights, all cross-validated) sees validation
questions only: with profiles on `outside_test`, no question of the evaluated test split
reaches the cross-validation. This test fails if one does."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

import orchestrator.profiling as profiling
from orchestrator.aggregators.stacker_fit import ValidationQuestion
from orchestrator.benchmarks import load_benchmark
from orchestrator.eval.config import EvalConfig
from orchestrator.eval.runner import EvalRun
from orchestrator.factory import Deployment
from orchestrator.settings import Settings
from skills.profiles import GradedAnswer, StackerWeights
from tests.conftest import shared_data_dir
from workers.backends.replay_index import normalise_question

pytestmark = [
    pytest.mark.replay,
    pytest.mark.data,
    pytest.mark.skipif(not (shared_data_dir() / "replay").is_dir(), reason="no replay data"),
]
EXPERTS = ["gemini-1.5-flash-002", "Meta-Llama-3_1-8B-Instruct"]


def test_the_profile_step_never_sees_a_test_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    experts = tmp_path / "replay.yaml"
    experts.write_text(
        "experts:\n"
        + "".join(
            f"  - {{name: {m}, backend: replay, model: {m}, memory_mb: 0, "
            f"options: {{on_missing: empty}}}}\n"
            for m in EXPERTS
        )
    )
    seen_by_fit: list[str] = []
    seen_by_smoothing: list[str] = []
    real_fit, real_smoothing = profiling.fit_stacker, profiling.choose_smoothing

    def fit(questions: Sequence[ValidationQuestion]) -> StackerWeights:
        seen_by_fit.extend(q.question_id for q in questions)
        return real_fit(questions)

    def smoothing(graded: Sequence[GradedAnswer]) -> tuple[float, dict[str, float]]:
        seen_by_smoothing.extend(g.question_id for g in graded)
        return real_smoothing(graded)

    monkeypatch.setattr(profiling, "fit_stacker", fit)
    monkeypatch.setattr(profiling, "choose_smoothing", smoothing)
    settings = Settings(
        data_dir=tmp_path / "home",
        shared_data_dir=shared_data_dir(),
        experts_file=experts,
        profile_file=None,
    )
    dep = Deployment(settings)
    config = EvalConfig(
        benchmark="mmlu_pro",
        split="test",
        limit=20,
        methods=["symoe"],
        seeds=[0],
        experts_file=str(experts),
        profile_split="outside_test",
        tagger="category",
        recruiter="ranked",
        aggregation="learned",
        k=2,
    )
    try:
        run = EvalRun(dep, config, tmp_path / "run")
        run.run()
    finally:
        dep.close()

    root = settings.benchmarks_dir
    test = load_benchmark(root, "mmlu_pro", "test")
    validation = {i.id: i for i in load_benchmark(root, "mmlu_pro", "outside_test")}
    test_texts = {normalise_question(i.question) for i in test}
    assert len(set(seen_by_fit)) == len(validation) == len(set(seen_by_smoothing))
    for seen in (seen_by_fit, seen_by_smoothing):
        assert set(seen) <= set(validation)  # validation ids, none of the test split's
        assert not {normalise_question(validation[i].question) for i in seen} & test_texts
    assert not {i.id for i in test} & (set(seen_by_fit) | set(seen_by_smoothing))
