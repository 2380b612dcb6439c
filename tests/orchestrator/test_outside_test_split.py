"""mmlu_pro's `outside_test` split (profiles' validation data) on the real files: the full
release's questions less the paper's test questions, so a profile built on it never saw a
question it is then evaluated on.

(`symoe eval run` refusing profiles built on the evaluated split itself is covered by
tests/e2e/test_eval_resume.py::test_bad_eval_input_is_one_line.)"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from orchestrator.benchmarks import BenchItem, list_benchmarks, load_benchmark
from orchestrator.settings import Settings
from tests.conftest import shared_data_dir
from workers.backends.replay_index import normalise_question

ROOT = Settings(shared_data_dir=shared_data_dir()).benchmarks_dir


@cache
def _load(name: str, split: str) -> list[BenchItem]:
    return load_benchmark(ROOT, name, split)


@pytest.fixture(scope="module")
def data_root() -> Path:
    if not ROOT.is_dir():
        pytest.skip(f"no benchmark data at {ROOT}")
    return ROOT


def test_the_split_is_registered() -> None:
    assert "outside_test" in list_benchmarks()["mmlu_pro"]


@pytest.mark.data
def test_outside_test_shares_no_question_with_the_papers_test_split(data_root: Path) -> None:
    outside = _load("mmlu_pro", "outside_test")
    test = _load("mmlu_pro", "test")
    assert outside, "outside_test is empty"
    assert len(test) == 2100
    outside_texts = {normalise_question(i.question) for i in outside}
    test_texts = {normalise_question(i.question) for i in test}
    assert outside_texts & test_texts == set()
    assert {i.question for i in outside} & {i.question for i in test} == set()


@pytest.mark.data
def test_outside_test_is_the_full_release_less_the_test_questions(data_root: Path) -> None:
    outside = _load("mmlu_pro", "outside_test")
    full = _load("mmlu_pro_full", "test")
    test_texts = {normalise_question(i.question) for i in _load("mmlu_pro", "test")}
    assert len(outside) == 9816  # of 12,032 (the loader's docstring)
    assert len({i.id for i in outside}) == len(outside)
    assert {i.fmt for i in outside} == {"letter"}
    kept = [i for i in full if normalise_question(i.question) not in test_texts]
    assert outside == kept  # full-release items, in file order
    # the filter bites: nearly every paper test question is found in the full release
    missing = test_texts - {normalise_question(i.question) for i in full}
    assert len(missing) <= 5
    assert len(full) - len(outside) >= len(test_texts) - len(missing)
    assert load_benchmark(data_root, "mmlu_pro", "outside_test", limit=5) == outside[:5]
