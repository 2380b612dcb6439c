"""The retrieval QA sets on the real files (shared_data_dir/rag): split sizes, answers,
ids, the documents each corpus gives the store and the gold sources for recall."""

from __future__ import annotations

import json
from functools import cache

import pytest

from orchestrator.benchmarks import BenchItem, load_benchmark
from orchestrator.benchmarks.rag_corpora import CORPORA, corpus_documents, gold_sources
from orchestrator.benchmarks.rag_data import boolq_halves, rag_dir
from orchestrator.retrieval.readers import SourceText
from tests.conftest import shared_data_dir

ROOT = shared_data_dir() / "benchmarks"
RAG = rag_dir(ROOT)

RAG_SPLITS = [
    ("hotpotqa", "rpt_train", 300, "free"),
    ("hotpotqa", "rpt_dev", 300, "free"),
    ("hotpotqa", "rpt_test", 500, "free"),
    ("hotpotqa", "fit", 600, "free"),
    ("hotpotqa", "test", 500, "free"),
    ("pubmedqa", "fit", 500, "yesno"),
    ("pubmedqa", "test", 500, "yesno"),
    ("boolq", "fit", 1635, "yesno"),
    ("boolq", "test", 1635, "yesno"),
]

pytestmark = pytest.mark.data


@pytest.fixture(scope="module", autouse=True)
def _data_present() -> None:
    if not RAG.is_dir():
        pytest.skip(f"no RAG data at {RAG}")


@cache
def load(name: str, split: str) -> list[BenchItem]:
    return load_benchmark(ROOT, name, split)


@cache
def documents(name: str) -> list[SourceText]:
    return list(corpus_documents(ROOT, name))


@pytest.mark.parametrize(("name", "split", "count", "fmt"), RAG_SPLITS)
def test_split_counts_and_answers(name: str, split: str, count: int, fmt: str) -> None:
    items = load(name, split)
    assert len(items) == count
    assert len({i.id for i in items}) == count
    assert {i.fmt for i in items} == {fmt}
    assert all(i.question.strip() and i.answer and i.question_id for i in items)
    if fmt == "yesno":
        assert {i.answer for i in items} <= {"yes", "no", "maybe"}


def test_hotpot_splits_are_the_files_and_keep_the_question_only() -> None:
    fit, test = load("hotpotqa", "fit"), load("hotpotqa", "test")
    assert fit == load("hotpotqa", "rpt_train") + load("hotpotqa", "rpt_dev")
    assert test == load("hotpotqa", "rpt_test")
    assert not {i.id for i in fit} & {i.id for i in test}
    assert {i.category for i in fit + test} == {"bridge", "comparison"}
    first = json.loads((RAG / "hotpotqa" / "rpt_test.jsonl").read_text().splitlines()[0])
    assert test[0].question == first["question"].strip() and test[0].answer == first["answer"]
    # no passage text in the question: it is the document store's
    assert first["context"]["sentences"][0][0].strip() not in test[0].question


def test_pubmed_test_is_the_official_split_with_its_labels() -> None:
    truth = json.loads((RAG / "pubmedqa" / "test_ground_truth.json").read_text())
    test, fit = load("pubmedqa", "test"), load("pubmedqa", "fit")
    assert {i.question_id: i.answer for i in test} == truth
    assert not {i.question_id for i in fit} & set(truth)
    answers = [i.answer for i in fit + test]
    assert (answers.count("yes"), answers.count("no"), answers.count("maybe")) == (552, 338, 110)


def test_boolq_halves_are_fixed_and_cover_every_question() -> None:
    fit, test = load("boolq", "fit"), load("boolq", "test")
    fit_ids, test_ids = (
        {int(i.question_id or -1) for i in fit},
        {int(i.question_id or -1) for i in test},
    )
    assert not fit_ids & test_ids and fit_ids | test_ids == set(range(3270))
    assert boolq_halves(list(range(3270))) == (fit_ids, test_ids)
    answers = [i.answer for i in fit + test]
    assert (answers.count("yes"), answers.count("no")) == (2033, 1237)
    assert [i.id for i in fit[:3]] == [f"boolq-{i}" for i in sorted(fit_ids)[:3]]


@pytest.mark.parametrize(
    ("name", "count"), [("hotpotqa", 10785), ("pubmedqa", 1000), ("boolq", 2939)]
)
def test_corpus_documents(name: str, count: int) -> None:
    docs = documents(name)
    assert len(docs) == count
    assert len({d.source for d in docs}) == count  # one document per source
    assert all(d.source.startswith(f"{name}:") and d.text.strip() for d in docs)
    assert {d.metadata["type"] for d in docs} == {name}


@pytest.mark.parametrize("name", CORPORA)
def test_gold_sources_are_in_the_corpus_for_every_item(name: str) -> None:
    gold = gold_sources(ROOT, name)
    sources = {d.source for d in documents(name)}
    splits = [s for n, s, _, _ in RAG_SPLITS if n == name and s in ("fit", "test")]
    items = [i for s in splits for i in load(name, s)]
    assert {i.id for i in items} == set(gold)
    assert all(gold[i.id] and set(gold[i.id]) <= sources for i in items)


def test_hotpot_corpus_holds_every_paragraph_of_the_1100_questions() -> None:
    docs = {d.source: d for d in documents("hotpotqa")}
    gold = gold_sources(ROOT, "hotpotqa")
    assert len(gold) == 1100 and all(len(v) == 2 for v in gold.values())
    line = json.loads((RAG / "hotpotqa" / "rpt_dev.jsonl").read_text().splitlines()[0])
    for title, sentences in zip(
        line["context"]["title"], line["context"]["sentences"], strict=True
    ):
        doc = docs[f"hotpotqa:{title}"]
        assert doc.text.startswith(f"{title}\n") and sentences[-1].strip() in doc.text
    assert gold[f"hotpotqa-{line['id']}"] == [
        f"hotpotqa:{t}" for t in dict.fromkeys(line["supporting_facts"]["title"])
    ]


def test_pubmed_and_boolq_documents_hold_their_passages() -> None:
    pubmed = {d.source: d for d in documents("pubmedqa")}
    record = json.loads((RAG / "pubmedqa" / "ori_pqal.json").read_text())["21645374"]
    text = pubmed["pubmedqa:21645374"].text
    assert text.startswith(f"{record['LABELS'][0]}: ") and all(
        c in text for c in record["CONTEXTS"]
    )
    boolq = documents("boolq")
    assert boolq[0].source == "boolq:Ethanol fuel#1"
    assert boolq[0].text.startswith("Ethanol fuel -- All biomass")
