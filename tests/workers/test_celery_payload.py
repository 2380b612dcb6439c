"""The Celery payload carries every GenerationParams field (JSON schema, penalties, log-
probabilities) to the worker's backend, and log-probabilities back, through JSON."""

from __future__ import annotations

import json

from orchestrator.scheduler import Group, GroupResult, StageRequest
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
