"""What becomes of each field of a chat completion request: honoured (mapped onto the
committee's options or a direct call's params here) or refused with a 400 that names it,
before any model runs. README's REST API section has the table."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orchestrator.api.errors import ApiError
from orchestrator.api.openai.protocol import PIPELINE_MODEL, ChatCompletionRequest
from orchestrator.experts import ExpertRegistry
from orchestrator.overrides import CallOverrides
from workers.backends import backend_class
from workers.types import BackendError, BackendFeature

# OpenAI's fields that symoe does not honour: the values that ask nothing of it (accepted)
# and why any other value is refused.
_REFUSED: dict[str, tuple[tuple[object, ...], str]] = {
    "tools": ((None, []), "symoe calls no tools"),
    "tool_choice": ((None, "none"), "symoe calls no tools"),
    "parallel_tool_calls": ((None, False), "symoe calls no tools"),
    "functions": ((None, []), "symoe calls no functions"),
    "function_call": ((None, "none"), "symoe calls no functions"),
    "logit_bias": ((None, {}), "token ids differ from one model to the next"),
    "audio": ((None,), "symoe answers in text"),
    "modalities": ((None, ["text"]), "symoe answers in text"),
    "prediction": ((None,), "predicted outputs are not used"),
    "web_search_options": ((None,), "symoe does not search the web"),
    "reasoning_effort": ((None,), "the models have no reasoning-effort setting"),
    "verbosity": ((None,), "the models have no verbosity setting"),
    "service_tier": ((None, "auto", "default"), "symoe has one service tier"),
    "store": ((None, True), "symoe stores every completion with its trace"),
    "metadata": ((None, {}), "symoe keeps no metadata on a completion"),
    "prompt_cache_key": ((None,), "symoe keeps no prompt cache"),
    "safety_identifier": ((None,), "use `user`, which symoe notes in the trace"),
}


def refuse_unsupported(body: ChatCompletionRequest) -> None:
    """400 for a field symoe does not honour set to a value that asks something of it, and
    for fields OpenAI does not define."""
    for name, value in (body.model_extra or {}).items():
        rule = _REFUSED.get(name)
        if rule is None:
            raise ApiError(
                400, f"unknown field {name!r}: not a chat completion field symoe reads", param=name
            )
        accepted, why = rule
        if value not in accepted:
            raise ApiError(400, f"{name} is not supported: {why}", param=name)
    for i, message in enumerate(body.messages):
        for name in ("tool_calls", "function_call", "audio"):
            if getattr(message, name):
                raise ApiError(
                    400,
                    f"messages[{i}].{name} is not supported: symoe calls no tools and reads text",
                    param=f"messages.{i}.{name}",
                )
    if body.top_logprobs is not None and not body.logprobs:
        raise ApiError(400, "top_logprobs needs logprobs: true", param="top_logprobs")
    if body.model == PIPELINE_MODEL and body.logprobs:
        raise ApiError(
            400,
            f"logprobs apply to direct expert calls, not to {PIPELINE_MODEL!r}: the committee's "
            "answer is merged or voted from several models' answers",
            param="logprobs",
        )


def json_schema(body: ChatCompletionRequest) -> dict[str, Any] | None:
    """The schema response_format asks for (json_object: any JSON object); None for text."""
    requested = body.response_format
    if requested is None or requested.type == "text":
        return None
    if requested.type == "json_object":
        return {"type": "object"}
    return requested.json_schema.schema_


def overrides(body: ChatCompletionRequest) -> CallOverrides:
    """The committee's share of the request: top_p for the experts; penalties and the JSON
    schema for every call (see CallOverrides)."""
    return CallOverrides(
        top_p=body.top_p,
        presence_penalty=body.presence_penalty,
        frequency_penalty=body.frequency_penalty,
        json_schema=json_schema(body),
    )


def direct_update(body: ChatCompletionRequest) -> dict[str, object]:
    """A direct call's params beyond sampling and length: as set in the request."""
    update = overrides(body).update("experts")
    if body.logprobs:
        update["logprobs"] = body.top_logprobs or 0
    return update


def requested_features(body: ChatCompletionRequest) -> dict[BackendFeature, str]:
    """The optional backend features the request needs, each with the field that asks."""
    needed: dict[BackendFeature, str] = {}
    if body.presence_penalty or body.frequency_penalty:
        needed["penalties"] = "presence_penalty" if body.presence_penalty else "frequency_penalty"
    if json_schema(body) is not None:
        needed["json_schema"] = "response_format"
    if body.logprobs:
        needed["logprobs"] = "logprobs"
    return needed


def check_backends(
    registry: ExpertRegistry,
    experts: Iterable[str],
    needed: dict[BackendFeature, str],
    schema: dict[str, Any] | None,
) -> None:
    """400 naming the field when an expert that may be called cannot honour it (its backend
    lacks the feature, or cannot turn the JSON schema into a constraint)."""
    for name in dict.fromkeys(experts):
        expert = registry.get(name)
        spec = expert.spec()
        backend = backend_class(expert.backend)
        for feature in sorted(set(needed) - backend.features(spec)):
            field = needed[feature]
            raise ApiError(
                400,
                f"{field} is not supported by expert {name!r} (backend {expert.backend!r}); "
                f"the experts that may answer must all support it",
                param=field,
            )
        if schema is not None:
            try:
                backend.check_json_schema(spec, schema)
            except BackendError as exc:
                raise ApiError(400, f"response_format: {exc}", param="response_format") from None
