"""A user's own JSONL or CSV benchmark, read through a field mapping."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from orchestrator.benchmarks import load_benchmark, load_generic
from orchestrator.errors import InputError


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_jsonl_with_a_choices_list_and_every_answer_form(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "mine.jsonl",
        [
            {"q": "Pick b", "opts": ["a", "b", "c"], "gold": 1, "uid": "x1", "topic": "t"},
            {"q": "Pick c", "opts": ["a", "b", "c"], "gold": "c", "uid": "x2"},
            {"q": "Pick a", "opts": ["A. a", "B. b"], "gold": "(A)", "uid": "x3"},
            {"q": "Pick b", "opts": ["a", "b"], "gold": "1", "uid": "x4"},
        ],
    )
    mapping = {
        "question": "q",
        "choices": "opts",
        "answer": "gold",
        "id": "uid",
        "category": "topic",
    }
    items = load_benchmark(tmp_path, "generic", str(path), mapping=mapping)
    assert [i.answer for i in items] == ["B", "C", "A", "B"]
    assert {i.fmt for i in items} == {"letter"}
    assert items[0].question == "Pick b The options are: (A) a (B) b (C) c"
    assert items[2].question == "Pick a The options are: (A) a (B) b"  # own labels dropped
    assert (items[0].id, items[0].question_id, items[0].category) == ("x1", "x1", "t")
    assert items[1].category == ""
    assert load_benchmark(tmp_path, "generic", str(path), limit=2, mapping=mapping) == items[:2]


def test_csv_with_choice_columns_and_text_answers(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        'prompt,o1,o2,o3,o4,right\n"Which, of these?",red,green,blue,,blue\nNext,1,2,3,4,2\n'
    )
    items = load_generic(path, {"question": "prompt", "choices": "o1, o2,o3,o4", "answer": "right"})
    assert [i.answer for i in items] == ["C", "B"]  # '2' is a choice's text before an index
    assert items[0].question == "Which, of these? The options are: (A) red (B) green (C) blue"
    assert [i.id for i in items] == ["mine-2", "mine-3"]  # the line each row starts on


@pytest.mark.parametrize(
    ("answers", "fmt"),
    [
        (["12", "$1,024", "-3.5"], "number"),
        (["B", "(C)", "A"], "letter"),
        (["\\frac{1}{2}", "x^2", "7"], "math"),
        (["Paris", "blue whale"], "free"),
    ],
)
def test_format_is_inferred_without_choices(tmp_path: Path, answers: list[str], fmt: str) -> None:
    path = _jsonl(
        tmp_path / "f.jsonl", [{"question": f"q{i}", "answer": a} for i, a in enumerate(answers)]
    )
    items = load_generic(path)
    assert {i.fmt for i in items} == {fmt}
    assert [i.answer for i in items] == answers


def test_format_can_be_given(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "f.jsonl", [{"question": "q", "answer": "12"}])
    assert load_generic(path, {"fmt": "math"})[0].fmt == "math"
    path = _jsonl(
        tmp_path / "g.jsonl", [{"question": "q", "answer": "12"}, {"question": "r", "answer": "x"}]
    )
    with pytest.raises(InputError, match=re.escape(f"{path}:2: answer 'x' is not a number")):
        load_generic(path, {"fmt": "number"})


@pytest.mark.parametrize(
    ("rows", "mapping", "message"),
    [
        ([{"question": "q", "answer": "1"}, {"question": "r"}], {}, ":2: missing field 'answer'"),
        ([{"question": "", "answer": "1"}], {}, ":1: missing field 'question'"),
        ([{"q": "q", "answer": "1"}], {"question": "q", "id": "uid"}, ":1: missing field 'uid'"),
        ([{"question": "q", "c": "x", "answer": 0}], {"choices": "c"},
         ":1: field 'c' is not a list"),
        ([{"question": "q", "a": "x", "answer": 0}], {"choices": "a,b"}, ":1: missing field 'b'"),
        ([{"question": "q", "c": ["x", "y"], "answer": "z"}], {"choices": "c"},
         ":1: bad row (answer 'z' is not a choice's text, letter or index)"),
        ([{"question": "q", "c": ["x", "y"], "answer": 2}], {"choices": "c"},
         ":1: bad row (answer 2 is outside the 2 choices)"),
        ([{"question": "q", "answer": "1", "k": 1}, {"question": "r", "answer": "2", "k": 1}],
         {"id": "k"}, ":2: duplicate id '1'"),
    ],
)  # fmt: skip
def test_bad_rows_name_file_and_line(
    tmp_path: Path, rows: list[dict[str, Any]], mapping: dict[str, str], message: str
) -> None:
    path = _jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(InputError, match=re.escape(f"{path}{message}")):
        load_generic(path, mapping)


def test_missing_csv_column_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("question,label\nq,1\n")
    with pytest.raises(InputError, match=re.escape(f"{path}:2: missing field 'answer'")):
        load_generic(path)


def test_bad_mapping_and_file_kind(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"mapping: .*'questoin'.*known keys: question"):
        load_generic(tmp_path / "x.jsonl", {"questoin": "q"})
    with pytest.raises(InputError, match=r"must be a \.jsonl or \.csv"):
        load_generic(tmp_path / "x.parquet")
    with pytest.raises(InputError, match="not found"):
        load_benchmark(tmp_path, "generic", str(tmp_path / "absent.jsonl"))
