"""Deployment builds every extension point by name through its registry, with one
constructor signature per interface; unknown names fail naming the known ones."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from orchestrator.aggregators import AGGREGATORS
from orchestrator.errors import ConfigError
from orchestrator.factory import Deployment
from orchestrator.recruiters import BASELINE_RECRUITERS, RECRUITERS, RecruiterOptions
from orchestrator.runners import RUNNERS, CeleryRunner, InProcessRunner, MicroBatchingRunner
from orchestrator.settings import Settings
from orchestrator.taggers import TAGGERS, LLMTagger
from skills.vocabulary import SkillVocabulary
from workers.types import ModelSpec

VOCABULARY = cast(SkillVocabulary, object())  # taggers only hold it until they tag


class NoEmbeddings(Deployment):
    """The real deployment, but no embedding model is loaded for the vocabulary."""

    @property
    def vocabulary(self) -> SkillVocabulary:
        return VOCABULARY


def _settings(tmp: Path, tagger_role: bool = True, **overrides: Any) -> Settings:
    roles = ["expert", "aggregator", "tagger"] if tagger_role else ["expert", "aggregator"]
    experts = [
        {"name": "e0", "backend": "scripted", "model": "scripted/e0", "roles": roles},
        {"name": "e1", "backend": "scripted", "model": "scripted/e1"},
    ]
    experts_file = tmp / "experts.yaml"
    experts_file.write_text(yaml.safe_dump({"experts": experts}))
    values: dict[str, Any] = {
        "data_dir": tmp / "home",
        "experts_file": experts_file,
        "profile_file": None,
    }
    return Settings(**(values | overrides))


@pytest.mark.parametrize("name", TAGGERS.names())
def test_each_registered_tagger_is_built_by_name(tmp_path: Path, name: str) -> None:
    settings = _settings(tmp_path, skills_per_query=4, tagger_samples=2)
    tagger = NoEmbeddings(settings).tagger(name)
    assert type(tagger) is TAGGERS.get(name) and tagger.name == name
    assert tagger.vocabulary is VOCABULARY
    assert (tagger.options.skills_per_query, tagger.options.samples) == (4, 2)
    assert tagger.options.expert == "e0"  # the first expert with the tagger role


def test_the_settings_tagger_is_the_default(tmp_path: Path) -> None:
    dep = NoEmbeddings(_settings(tmp_path, tagger="llm"))
    assert isinstance(dep.tagger(), LLMTagger)


def test_tagger_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown tagger 'magic' \(known: embedding, llm\)"):
        NoEmbeddings(_settings(tmp_path)).tagger("magic")
    without_role = NoEmbeddings(_settings(tmp_path, tagger_role=False))
    with pytest.raises(ConfigError, match="tagger 'llm' needs an expert with the tagger role"):
        without_role.tagger("llm")


@pytest.mark.parametrize("name", RECRUITERS.names())
def test_each_registered_recruiter_is_built_by_name(tmp_path: Path, name: str) -> None:
    settings = _settings(tmp_path, recruiter=name, seed=5, dynamic_k=0.8, min_share=0.1)
    recruiter = NoEmbeddings(settings).recruiter(None)
    assert type(recruiter) is RECRUITERS.get(name) and recruiter.name == name
    assert (recruiter.profile, recruiter.seed) == (None, 5)
    assert recruiter.options == RecruiterOptions(dynamic_k=0.8, min_share=0.1)


def test_baselines_are_built_the_same_way_and_unknown_recruiters_are_refused(
    tmp_path: Path,
) -> None:
    options = RecruiterOptions(committee=["e0", "e1"])
    for name in BASELINE_RECRUITERS.names():
        recruiter = BASELINE_RECRUITERS.create(name, None, 3, options)
        assert recruiter.name == name and recruiter.seed == 3
    dep = NoEmbeddings(_settings(tmp_path, recruiter="magic"))
    with pytest.raises(
        ConfigError, match=r"unknown recruiter 'magic' \(known: auto, symbolic, ranked, diverse\)"
    ):
        dep.recruiter(None)


def test_every_registered_aggregation_is_built(tmp_path: Path) -> None:
    policies = NoEmbeddings(_settings(tmp_path)).aggregators()
    assert list(policies) == AGGREGATORS.names()
    for name, policy in policies.items():
        assert type(policy) is AGGREGATORS.get(name) and policy.name == name


@pytest.mark.parametrize("name", RUNNERS.names())
def test_each_registered_runner_is_built_from_the_settings(tmp_path: Path, name: str) -> None:
    settings = _settings(
        tmp_path, runner=name, memory_budget_mb=123, group_timeout_s=7, microbatch_window_ms=5
    )
    dep = NoEmbeddings(settings)
    runner = dep.make_runner()
    try:
        # the registered factory is the class's own from_settings
        assert type(runner) is RUNNERS.get(name).__self__  # type: ignore[attr-defined]
        assert runner.name == name
        if isinstance(runner, InProcessRunner):
            assert runner.pool.memory_budget_mb == 123
        if isinstance(runner, CeleryRunner):
            assert runner.timeout_s == 7
        wrapped = dep.make_runner(microbatch=True)
        assert isinstance(wrapped, MicroBatchingRunner) and type(wrapped.inner) is type(runner)
        wrapped.close()
    finally:
        runner.close()


def test_an_unknown_runner_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown runner 'magic' \(known: inprocess, celery\)"):
        NoEmbeddings(_settings(tmp_path, runner="magic"))


def _spec(name: str, backend: str = "scripted", model: str = "") -> ModelSpec:
    return ModelSpec(name=name, backend=backend, model=model or f"scripted/{name}")


def test_in_process_readiness_needs_an_expert_that_can_load_here(tmp_path: Path) -> None:
    runner = RUNNERS.create("inprocess", _settings(tmp_path))
    missing = _spec("gone", "llamacpp", str(tmp_path / "no-such.gguf"))
    assert runner.check([missing, _spec("e0")]) == {"experts": "ok"}
    checks = runner.check([missing])
    assert checks["experts"].startswith("failed: no usable expert (gone: ")
    assert runner.check([]) == {"experts": "failed: no usable expert"}
    assert MicroBatchingRunner(runner).check([_spec("e0")]) == {"experts": "ok"}


def test_celery_readiness_adds_the_broker_and_checks_only_backend_names(tmp_path: Path) -> None:
    settings = _settings(tmp_path, runner="celery", broker_url="redis://127.0.0.1:1/0")
    runner = RUNNERS.create("celery", settings)
    try:
        started = time.monotonic()
        # the workers load the models: a model file missing here is no concern of this host
        checks = runner.check([_spec("gone", "llamacpp", str(tmp_path / "no-such.gguf"))])
        assert list(checks) == ["broker", "experts"] and checks["experts"] == "ok"
        assert checks["broker"].startswith(
            "failed: cannot reach the broker at redis://127.0.0.1:1/0"
        )
        assert time.monotonic() - started < 30
    finally:
        runner.close()
