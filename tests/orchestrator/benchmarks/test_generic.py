"""A user's own JSONL or CSV benchmark, read through a field mapping."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from orchestrator.benchmarks import fields_mapping, load_benchmark, load_generic
from orchestrator.errors import InputError


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_jsonl_with_a_choices_list_and_every_answer_form(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "mine.jsonl",
        [
            {"q": "Pick b", "opts": ["a", "b", "c"], "gold": 1, "uid": "x1", "topic": "t"},
            {"q": "Pick c", "opts": ["a", "b", "c"], "gold": "c", "uid": "x2", "topic": None},
            {"q": "Pick a", "opts": ["A. a", "B. b"], "gold": "(A)", "uid": "x3", "topic": ""},
            {"q": "Pick b", "opts": ["a", "b"], "gold": "1", "uid": "x4", "topic": "u"},
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
        'prompt,o1,o2,o3,o4,right\n"Which, of these?",red,green,blue,,blue\nNext,1,2,3,4,B\n'
    )
    items = load_generic(path, {"question": "prompt", "choices": "o1, o2,o3,o4", "answer": "right"})
    assert [i.answer for i in items] == ["C", "B"]
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
         ":1: answer 'z' is not a choice's text, letter or 0-based index"),
        ([{"question": "q", "c": ["x", "y"], "answer": 2}], {"choices": "c"},
         ":1: answer 2 is outside the 2 choices"),
        ([{"question": "q", "c": ["x", "y"], "answer": True}], {"choices": "c"},
         ":1: answer True is not a choice's text, letter or 0-based index"),
        ([{"question": "q", "c": [str(i) for i in range(11)], "answer": 0}], {"choices": "c"},
         ":1: 11 choices in 'c'; 2 to 10 (A-J) are graded"),
        ([{"question": "q", "answer": "1", "t": "x"}, {"question": "r", "answer": "2"}],
         {"category": "t"}, ":2: missing field 't'"),
        ([{"question": "q", "answer": "1", "choices": ["x", "y"]}, {"question": "r", "answer": 1}],
         {}, ":2: missing field 'choices'"),
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


def _hellaswag_rows() -> list[dict[str, Any]]:
    """Rows as HellaSwag's validation file has them (label a string, ind an int)."""
    return [
        {
            "ind": 24,
            "activity_label": "Roof shingle removal",
            "ctx": "A man is sitting on a roof. he",
            "endings": [
                "is using wrap to wrap a pair of skis.",
                "is ripping level tiles off.",
                "is holding a rubik's cube.",
                "starts pulling up roofing on a roof.",
            ],
            "label": "3",
        },
        {
            "ind": 92,
            "activity_label": "Clean and jerk",
            "ctx": "A lady walks to a barbell. She bends down and grabs the pole. the lady",
            "endings": [
                "swings and lands in her arms.",
                "pulls the barbell forward.",
                "pulls a rope attached to the barbell.",
                "stands and lifts the weight over her head.",
            ],
            "label": 3,
        },
    ]


def test_hellaswag_through_a_field_mapping(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "hellaswag.jsonl", _hellaswag_rows())
    fields = fields_mapping(
        [
            "question=ctx",
            "choices=endings",
            "answer=label",
            "id=ind",
            "category = activity_label",
        ]
    )
    items = load_generic(path, fields)
    assert [(i.id, i.answer, i.fmt, i.category) for i in items] == [
        ("24", "D", "letter", "Roof shingle removal"),
        ("92", "D", "letter", "Clean and jerk"),
    ]
    assert items[0].question == (
        "A man is sitting on a roof. he The options are: (A) is using wrap to wrap a pair of "
        "skis. (B) is ripping level tiles off. (C) is holding a rubik's cube. (D) starts "
        "pulling up roofing on a roof."
    )


def test_fields_named_as_the_readme_says_need_no_mapping(tmp_path: Path) -> None:
    """`choices`, `id` and `category` are read when the file has them, unmapped."""
    path = _jsonl(
        tmp_path / "mine.jsonl",
        [
            {"id": "q1", "category": "bio", "question": "Cells?", "choices": ["x", "y"],
             "answer": 1},
            {"id": "q2", "category": "", "question": "Atoms?", "choices": ["p", "q", "r"],
             "answer": "r"},
        ],
    )  # fmt: skip
    items = load_generic(path)
    assert [(i.id, i.question_id, i.category, i.answer, i.fmt) for i in items] == [
        ("q1", "q1", "bio", "B", "letter"),
        ("q2", "q2", "", "C", "letter"),
    ]
    assert items[0].question == "Cells? The options are: (A) x (B) y"


@pytest.mark.parametrize(
    ("choices", "answer", "gold"),
    [
        (["red", "green", "blue"], 2, "C"),  # a JSON int: 0-based index
        (["red", "green", "blue"], "2", "C"),  # digits in a string: the same
        (["red", "green", "blue"], "(c)", "C"),  # a letter, any case, with parentheses
        (["red", "green", "blue"], "green", "B"),  # a choice's text
        (["A. yes", "B. no"], "no", "B"),  # the choices' own labels are not their text
        (["3", "5", "7"], "7", "C"),  # a choice's text; as an index 7 is no choice
        (["A", "B", "C"], "B", "B"),  # text and letter agree
    ],
)
def test_gold_forms(tmp_path: Path, choices: list[str], answer: object, gold: str) -> None:
    path = _jsonl(tmp_path / "g.jsonl", [{"question": "q", "choices": choices, "answer": answer}])
    assert load_generic(path)[0].answer == gold


@pytest.mark.parametrize(
    ("choices", "answer", "readings"),
    [
        (["1", "2", "3", "4"], "2", "the choice's text -> B, a 0-based index -> C"),
        (["1", "2", "3", "4"], 1, "the choice's text -> A, a 0-based index -> B"),
        (["B", "A", "C"], "A", "a letter -> A, the choice's text -> B"),
        (["yes", "no", "yes"], "yes", "the choice's text -> A, the choice's text -> C"),
    ],
)
def test_ambiguous_gold_is_refused(
    tmp_path: Path, choices: list[str], answer: object, readings: str
) -> None:
    path = _jsonl(
        tmp_path / "amb.jsonl",
        [
            {"question": "fine", "choices": ["x", "y"], "answer": "y"},
            {"question": "q", "choices": choices, "answer": answer},
        ],
    )
    message = f"{path}:2: answer {answer!r} is ambiguous ({readings}); write the letter"
    with pytest.raises(InputError, match=re.escape(message)):
        load_generic(path)


def test_letter_format_cannot_be_overridden_with_choices(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "f.jsonl", [{"question": "q", "choices": ["1", "2"], "answer": "B"}])
    with pytest.raises(InputError, match="with choices the answer format is 'letter'"):
        load_generic(path, {"choices": "choices", "fmt": "number"})


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (["questoin=ctx"], "unknown field 'questoin' (known: question, answer, choices, id, "
         "category)"),
        (["question"], "--field 'question': expected TARGET=SOURCE"),
        (["question="], "--field 'question=': expected TARGET=SOURCE"),
        (["answer=a", "answer=b"], "--field answer is given twice"),
    ],
)  # fmt: skip
def test_bad_field_options(pairs: list[str], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        fields_mapping(pairs)


def test_a_mapped_field_missing_in_a_csv_header_names_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "hs.csv"
    path.write_text('ctx,endings,label\nA man,"[""a"", ""b""]",1\n')
    assert (
        load_generic(path, {"question": "ctx", "choices": "endings", "answer": "label"})[0].answer
        == "B"
    )
    with pytest.raises(InputError, match=re.escape(f"{path}:2: missing field 'activity'")):
        load_generic(path, {"question": "ctx", "answer": "label", "category": "activity"})


def test_a_nul_in_a_data_file_is_refused_with_file_and_line(tmp_path: Path) -> None:
    """PostgreSQL cannot store NUL: refused when read, before any model runs."""
    rows = [{"question": "q", "answer": "1"}, {"question": "r\x00", "answer": "2"}]
    escaped = _jsonl(tmp_path / "escaped.jsonl", rows)  # json.dumps writes \u0000
    with pytest.raises(InputError, match=re.escape(f"{escaped}:2: a NUL character")):
        load_generic(escaped, {})
    raw = tmp_path / "raw.csv"
    raw.write_bytes(b"question,answer\nq,1\nr\x00,2\n")
    with pytest.raises(InputError, match=re.escape(f"{raw}:3: a NUL character")):
        load_generic(raw, {})
