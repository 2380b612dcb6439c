"""Replay backend and store: real MMLU-Pro recordings (marked `replay`) and small synthetic zips."""

from __future__ import annotations

import json
import os
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from workers.backends import create_backend
from workers.backends.replay import ReplayBackend
from workers.backends.replay_store import ReplayStore, clear_cache
from workers.settings import WorkerSettings
from workers.types import BackendError, GenerationParams, Message, ModelSpec, Prompt

DATA_DIR = Path(
    os.environ.get("SYMOE_SHARED_DATA_DIR", Path(__file__).resolve().parents[3] / "shared" / "data")
)
MMLU_PRO = DATA_DIR / "replay" / "mmlu_pro"
SPLITS = DATA_DIR / "benchmarks" / "symbolic_moe_splits"
GEMINI = "gemini-1.5-flash-002"
PARAMS = GenerationParams()

real = pytest.mark.replay


@pytest.fixture(autouse=True)
def worker_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A backend built without settings reads this process's environment: keep its index
    cache out of the home directory."""
    monkeypatch.setenv("SYMOE_DATA_DIR", str(tmp_path / "worker-home"))
    return tmp_path / "worker-home"


@pytest.fixture(scope="module")
def store() -> ReplayStore:
    if not MMLU_PRO.is_dir():
        pytest.skip(f"replay data not found at {MMLU_PRO} (set SYMOE_SHARED_DATA_DIR)")
    return ReplayStore(MMLU_PRO)


def _spec(model: str, replay_dir: Path, **options: object) -> ModelSpec:
    return ModelSpec(
        name=f"x-{model}",
        backend="replay",
        model=model,
        options={"replay_dir": str(replay_dir), **options},
    )


def _write_zip(folder: Path, model: str, payload: Any) -> Path:
    path = folder / f"model_outputs_{model}_5shots.zip"
    with zipfile.ZipFile(path, "w") as zf:
        body = payload if isinstance(payload, str) else json.dumps(payload)
        zf.writestr(f"model_outputs_{model}_5shots.json", body)
    return path


def _record(qid: object, question: str, text: str, options: list[str], answer: str = "A") -> Any:
    return {
        "question_id": qid,
        "question": question,
        "options": options,
        "answer": answer,
        "answer_index": ord(answer) - 65,
        "category": "math",
        "src": "synthetic",
        "pred": "A",
        "generated_text": text,
    }


# -- real recordings -------------------------------------------------------------------------


@real
def test_models_are_named_from_the_files(store: ReplayStore) -> None:
    models = store.models()
    assert len(models) == 22
    assert {GEMINI, "Meta-Llama-3_1-70B-Instruct", "DeepSeek-Coder-V2"} <= set(models)


@real
def test_known_question_id_returns_the_recorded_text(store: ReplayStore) -> None:
    rec = store.recording("Llama-2-7b-hf").by_id("70")
    assert rec is not None
    assert rec.generated_text.startswith(
        " We refer to Wikipedia articles on marketing for help. Typical advertising"
    )
    assert (rec.pred, rec.answer, rec.category) == ("D", "I", "business")
    # gemini names the field model_outputs rather than generated_text
    gem = store.recording(GEMINI).by_id(70)
    assert gem is not None
    assert gem.generated_text.startswith("Let's think step by step. Advertising regulatory")
    assert gem.pred == "I"


@real
def test_int_and_str_question_ids_agree(store: ReplayStore) -> None:
    recording = store.recording(GEMINI)
    assert recording.by_id(70) == recording.by_id("70") == recording.by_id(" 70 ")
    assert recording.by_id("not-an-id") is None


@real
def test_paper_split_questions_match_by_text(store: ReplayStore) -> None:
    items = json.loads((SPLITS / "MMLU_Pro_test.json").read_text())[:50]
    recording = store.recording(GEMINI)
    backend = ReplayBackend(_spec(GEMINI, MMLU_PRO))
    backend.load()
    completions = backend.generate(
        [Prompt.user("ignored", question=x["question"]) for x in items], PARAMS
    )
    for item, completion in zip(items, completions, strict=True):
        assert " The options are:" in item["question"]
        rec = recording.by_question(item["question"])
        assert rec is not None, item["question"][:80]
        assert rec.answer == item["gold_answer"]
        assert rec.category == item["category"]
        assert completion.text == rec.generated_text


@real
def test_repeated_question_texts_are_told_apart_by_options(store: ReplayStore) -> None:
    # ~120 test-split questions share their text with another MMLU-Pro question; the options
    # suffix must pick the right one (their answers differ for about half of them).
    items = json.loads((SPLITS / "MMLU_Pro_test.json").read_text())
    recording = store.recording(GEMINI)
    found = [(x, recording.by_question(x["question"])) for x in items]
    hits = [(x, rec) for x, rec in found if rec is not None]
    assert len(hits) == 2096  # gemini never answered 4 of the 2,100 test questions
    assert all(rec.answer == x["gold_answer"] for x, rec in hits)


@real
def test_missing_question_raises_or_returns_empty(store: ReplayStore) -> None:
    # Llama-2-7b answered question 446; gemini did not.
    missed = store.recording("Llama-2-7b-hf").by_id(446)
    assert missed is not None and store.recording(GEMINI).by_id(446) is None
    prompt = Prompt.user(missed.question, question=missed.question, question_id="446")

    strict = ReplayBackend(_spec(GEMINI, MMLU_PRO))
    strict.load()
    with pytest.raises(BackendError, match=rf"model '{GEMINI}' has no recording .*\(id 446\)"):
        strict.generate([prompt], PARAMS)

    lenient = ReplayBackend(_spec(GEMINI, MMLU_PRO, on_missing="empty"))
    lenient.load()
    hit = Prompt.user("x", question_id="70")
    empty, found = lenient.generate([prompt, hit], PARAMS)
    assert empty.text == "" and empty.completion_tokens == 0
    assert found.text.startswith("Let's think step by step.")


@real
def test_unknown_model_lists_the_known_ones(store: ReplayStore) -> None:
    with pytest.raises(BackendError, match="no recording for model 'gpt-9'") as err:
        store.recording("gpt-9")
    assert GEMINI in str(err.value) and str(MMLU_PRO) in str(err.value)


@real
def test_backend_from_the_registry(store: ReplayStore) -> None:
    backend = create_backend(_spec("Llama-2-7b-hf", MMLU_PRO))
    backend.load()
    [completion] = backend.generate([Prompt.user("q", question_id="70")], PARAMS)
    assert completion.text.startswith(" We refer to Wikipedia")
    assert completion.completion_tokens == len(completion.text.split())
    backend.unload()
    with pytest.raises(BackendError, match="before load"):
        backend.generate([Prompt.user("q", question_id="70")], PARAMS)


# -- synthetic recordings ----------------------------------------------------------------------


def test_replayed_text_is_cut_at_the_first_stop_string(tmp_path: Path) -> None:
    text = "So (A).\nQ: next? So (B).\nQuestion: and (C)."
    _write_zip(tmp_path, "tiny", [_record("q-1", "What is 2+2?", text, ["4", "5"])])
    backend = ReplayBackend(_spec("tiny", tmp_path))
    backend.load()
    prompt = Prompt.user("ignored", question_id="q-1")
    [whole] = backend.generate([prompt], PARAMS)
    assert whole.text == text
    [cut] = backend.generate([prompt], GenerationParams(stop=["\nQuestion:", "\nQ:"]))
    assert (cut.text, cut.completion_tokens) == ("So (A).", 2)


def test_string_ids_text_fallback_and_token_counts(tmp_path: Path) -> None:
    records = [
        _record("q-1", "What is 2+2?", "It is four. The answer is (A).", ["4", "5"]),
        _record("q-2", "Name a prime.", "Seven. The answer is (B).", ["4", "7"], "B"),
    ]
    _write_zip(tmp_path, "tiny", records)
    backend = ReplayBackend(_spec("tiny", tmp_path))
    backend.load()
    prompts = [
        Prompt.user("ignored", question_id="q-2"),
        # no question or id: the last user message is the question
        Prompt(
            messages=[
                Message(role="system", content="s"),
                Message(role="user", content="What is 2+2?"),
            ]
        ),
    ]
    second, first = backend.generate(prompts, PARAMS)
    assert second.text == "Seven. The answer is (B)."
    assert first.text == "It is four. The answer is (A)."
    assert (first.prompt_tokens, first.completion_tokens) == (3, 7)


def test_an_id_that_contradicts_the_question_is_not_trusted(tmp_path: Path) -> None:
    _write_zip(
        tmp_path,
        "tiny",
        [_record(1, "Q one?", "one", ["a"]), _record(2, "Q two?", "two", ["a"])],
    )
    backend = ReplayBackend(_spec("tiny", tmp_path))
    backend.load()
    [out] = backend.generate([Prompt.user("x", question="Q two?", question_id="1")], PARAMS)
    assert out.text == "two"


def test_options_suffix_picks_among_repeated_texts(tmp_path: Path) -> None:
    _write_zip(
        tmp_path,
        "tiny",
        [
            _record(1, "Which is largest?", "first", ["1", "2"], "B"),
            _record(2, "Which is  largest? ", "second", ["3", "9", "5"], "B"),
        ],
    )
    recording = ReplayStore(tmp_path).recording("tiny")
    picked = recording.by_question("Which is largest? The options are: (A) 3 (B) 9 (C) 5.")
    assert picked is not None and picked.question_id == "2"
    plain = recording.by_question("Which is largest?")
    assert plain is not None and plain.question_id == "1"  # first in file order


def test_missing_folder_and_replay_dir_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match=re.escape(str(tmp_path / "nope"))):
        ReplayStore(tmp_path / "nope").models()
    with pytest.raises(BackendError, match="no model_outputs"):
        ReplayStore(tmp_path).models()
    spec = ModelSpec(name="x", backend="replay", model="m")
    nowhere = WorkerSettings(replay_dir=tmp_path / "nope")
    with pytest.raises(BackendError, match=re.escape(str(tmp_path / "nope"))):
        ReplayBackend(spec, nowhere).load()
    with pytest.raises(BackendError, match="on_missing"):
        ReplayBackend(_spec("m", tmp_path, on_missing="skip"))


def test_recordings_and_index_are_where_the_worker_settings_say(tmp_path: Path) -> None:
    """The spec names the model only; the worker's replay_dir holds the recordings and its
    cache_dir the index. An expert's own options.replay_dir wins over the worker's."""
    _write_zip(tmp_path, "tiny", [_record("q-1", "What is 2+2?", "Four.", ["4", "5"])])
    paths = WorkerSettings(data_dir=tmp_path / "home", replay_dir=tmp_path)
    clear_cache()
    backend = ReplayBackend(ModelSpec(name="x", backend="replay", model="tiny"), paths)
    backend.load()
    [out] = backend.generate([Prompt.user("ignored", question_id="q-1")], PARAMS)
    assert out.text == "Four."
    assert [p.parent for p in paths.cache_dir.iterdir()] == [tmp_path / "home" / "cache"]
    own = ModelSpec(name="x", backend="replay", model="tiny", options={"replay_dir": "/nope"})
    with pytest.raises(BackendError, match="/nope"):
        ReplayBackend(own, paths).load()


@pytest.mark.parametrize(
    "payload",
    ["{not json", json.dumps({"a": 1}), json.dumps([{"question_id": 1}])],
    ids=["bad-json", "not-a-list", "missing-fields"],
)
def test_malformed_json_names_the_file(tmp_path: Path, payload: str) -> None:
    path = _write_zip(tmp_path, "broken", payload)
    with pytest.raises(BackendError, match=re.escape(str(path))):
        ReplayStore(tmp_path).recording("broken")


def test_malformed_zip_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "model_outputs_broken_5shots.zip"
    path.write_bytes(b"not a zip")
    with pytest.raises(BackendError, match=re.escape(str(path))):
        ReplayStore(tmp_path).recording("broken")


def test_compact_cache_file_is_used_and_survives_corruption(tmp_path: Path) -> None:
    data, cache = tmp_path / "data", tmp_path / "cache"
    data.mkdir()
    _write_zip(data, "tiny", [_record(5, "Q?", "recorded", ["a"])])
    first = ReplayStore(data, cache).recording("tiny")
    [cache_file] = cache.glob("*.json")
    clear_cache()
    from_cache = ReplayStore(data, cache).recording("tiny")
    assert from_cache is not first and list(from_cache) == list(first)

    cache_file.write_text("{corrupt")
    clear_cache()
    rebuilt = ReplayStore(data, cache).recording("tiny").by_id(5)
    assert rebuilt is not None and rebuilt.generated_text == "recorded"
    assert json.loads(cache_file.read_text())["version"] == 1  # rewritten


def test_recordings_are_parsed_once_per_process(tmp_path: Path) -> None:
    _write_zip(tmp_path, "tiny", [_record(5, "Q?", "recorded", ["a"])])
    assert ReplayStore(tmp_path).recording("tiny") is ReplayStore(tmp_path).recording("tiny")


def test_concurrent_loads_parse_once(tmp_path: Path) -> None:
    _write_zip(tmp_path, "tiny", [_record(5, "Q?", "recorded", ["a"])])
    store = ReplayStore(tmp_path)
    with ThreadPoolExecutor(max_workers=8) as pool:
        loaded = list(pool.map(lambda _: store.recording("tiny"), range(32)))
    assert all(r is loaded[0] for r in loaded)
