"""The Celery payload carries every GenerationParams field (JSON schema, penalties, log-
probabilities) to the worker's backend, and log-probabilities back, through JSON; the worker
finds a model's files where its own environment says."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from orchestrator.scheduler import Group, GroupResult, StageRequest
from workers import celery_app
from workers.celery_app import run_group_payload
from workers.types import Completion, GenerationParams, ModelSpec, Prompt, TokenLogprob, TopLogprob

SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}}


def test_new_generation_fields_survive_the_json_payload() -> None:
    params = GenerationParams(
        max_tokens=500, frequency_penalty=0.5, presence_penalty=-1.0, json_schema=SCHEMA, logprobs=2
    )
    group = Group(
        stage="experts",
        spec=ModelSpec(name="echo", backend="scripted", model="x", options={"echo": "params"}),
        params=params,
        requests=[StageRequest(key="q", expert="echo", prompt=Prompt.user("hi"))],
    )
    wire = json.loads(json.dumps(group.model_dump(mode="json")))  # what the broker carries
    result = GroupResult.model_validate(json.loads(json.dumps(run_group_payload(wire, 64))))
    (completion,) = result.completions
    assert completion is not None
    assert GenerationParams.model_validate_json(completion.text) == params


def test_log_probabilities_come_back_through_json() -> None:
    entry = TokenLogprob(
        token=" Red",
        logprob=-1.25,
        bytes=list(b" Red"),
        top_logprobs=[TopLogprob(token="x", logprob=-2.0)],
    )
    completion = Completion(text=" Red", completion_tokens=1, logprobs=[entry])
    assert Completion.model_validate_json(completion.model_dump_json()) == completion


def test_the_worker_reads_recordings_where_its_environment_says(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    record = {
        **{"question_id": "1", "question": "2 + 2?", "options": ["4"], "answer": "A"},
        **{"category": "math", "generated_text": "Four.", "pred": "A"},
    }
    with zipfile.ZipFile(recordings / "model_outputs_tiny_5shots.zip", "w") as zf:
        zf.writestr("r.json", json.dumps([record]))
    monkeypatch.setenv("SYMOE_DATA_DIR", str(tmp_path / "worker-home"))
    monkeypatch.setenv("SYMOE_REPLAY_DIR", str(recordings))
    monkeypatch.setattr(celery_app, "_pool", None)  # a fresh worker process's pool
    group = Group(
        stage="experts",
        spec=ModelSpec(name="tiny", backend="replay", model="tiny"),  # no path in the spec
        params=GenerationParams(),
        requests=[StageRequest(key="q", expert="tiny", prompt=Prompt.user("x", question_id="1"))],
    )
    result = GroupResult.model_validate(run_group_payload(group.model_dump(mode="json"), 64))
    assert result.error is None and [c.text for c in result.completions if c] == ["Four."]
    assert (tmp_path / "worker-home" / "cache").is_dir()  # its index, under its data dir
