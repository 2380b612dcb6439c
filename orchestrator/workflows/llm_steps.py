"""The steps an LLM role plays: the planner writes the sub-tasks (decoding constrained to the
workflow's JSON schema where the backend can, e.g. llama.cpp's grammar; the output is checked
here anyway and re-asked up to `asks` times), the judge scores the whole result, the refiner
rewrites a failed attempt's instruction with the supervisors' reasons."""

from __future__ import annotations

import json
from typing import Any

from orchestrator.errors import ConfigError
from orchestrator.workflows.spec import WorkflowSpec
from orchestrator.workflows.tools import WorkflowContext
from orchestrator.workflows.types import Attempt, RoleSpec, Score, SubTask

RAW_KEPT = 2000  # characters of an invalid output kept in the failed step's record
JUDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"score": {"type": "number"}, "reason": {"type": "string"}},
    "required": ["score", "reason"],
}


class InvalidOutput(ValueError):
    """The role's output does not fit the schema; the message says where."""


def fill(template: str, **values: str) -> str:
    """The template with {name} replaced by each value (no str.format: inputs hold braces)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def _ask(
    context: WorkflowContext, role: RoleSpec, prompt: str, schema: dict[str, Any] | None
) -> str:
    if context.ask is None:
        raise ConfigError("this workflow's roles need experts, and none were given")
    return context.ask(role.expert, prompt, schema, role.max_tokens)


def check_subtasks(spec: WorkflowSpec, raw: str) -> list[SubTask]:
    """The sub-tasks in the planner's `raw` output, or InvalidOutput saying what is wrong."""
    try:
        plan = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidOutput(f"not JSON ({exc.msg} at character {exc.pos})") from None
    items = plan.get(spec.subtasks.items) if isinstance(plan, dict) else None
    if not isinstance(items, list) or not items:
        raise InvalidOutput(f"no non-empty {spec.subtasks.items!r} array")
    item_schema = spec.subtasks.json_schema["properties"][spec.subtasks.items].get("items", {})
    required = item_schema.get("required", [])
    numbers = [
        k
        for k, v in item_schema.get("properties", {}).items()
        if v.get("type") in ("number", "integer")
    ]
    tasks = []
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidOutput(f"{spec.subtasks.items}[{n}] is not an object")
        missing = [k for k in ["type", *required] if k not in item]
        if missing:
            raise InvalidOutput(f"{spec.subtasks.items}[{n}] lacks {', '.join(missing)}")
        if item["type"] not in spec.subtasks.types:
            known = ", ".join(spec.subtasks.types)
            raise InvalidOutput(
                f"{spec.subtasks.items}[{n}].type {item['type']!r} (known: {known})"
            )
        bad = [k for k in numbers if k in item and not isinstance(item[k], int | float)]
        if bad:
            raise InvalidOutput(f"{spec.subtasks.items}[{n}]: {', '.join(bad)} must be numbers")
        # bounds a grammar may not enforce (llama.cpp ignores minimum and maximum)
        for key in numbers:
            bounds = item_schema["properties"][key]
            low, high = bounds.get("minimum"), bounds.get("maximum")
            if key in item and (
                (low is not None and item[key] < low) or (high is not None and item[key] > high)
            ):
                raise InvalidOutput(
                    f"{spec.subtasks.items}[{n}].{key} = {item[key]} is outside [{low}, {high}]"
                )
        for key, rule in item_schema.get("properties", {}).items():
            if "enum" in rule and key in item and item[key] not in rule["enum"]:
                raise InvalidOutput(
                    f"{spec.subtasks.items}[{n}].{key} = {item[key]!r} is not allowed"
                )
        start, end = item.get("start"), item.get("end")
        if isinstance(start, int | float) and isinstance(end, int | float) and end <= start:
            raise InvalidOutput(f"{spec.subtasks.items}[{n}] ends before it starts")
        fields = {k: v for k, v in item.items() if k != "type"}
        tasks.append(SubTask(id=f"{n + 1}-{item['type']}", type=item["type"], fields=fields))
    return tasks


def plan_subtasks(spec: WorkflowSpec, context: WorkflowContext, input_text: str) -> dict[str, Any]:
    role = spec.roles["planner"]
    prompt = fill(role.prompt, input=input_text)
    problems: list[str] = []
    for ask in range(1, role.asks + 1):
        asked = prompt
        if problems:  # say what was wrong: the same prompt would decode the same output again
            asked += f"\nYour last plan was not usable ({problems[-1]}). Write it again.\n"
        raw = _ask(context, role, asked, spec.subtasks.json_schema)
        try:
            tasks = check_subtasks(spec, raw)
        except InvalidOutput as exc:
            problems.append(str(exc))
            continue
        return {"subtasks": [t.model_dump(mode="json") for t in tasks], "asks": ask, "raw": raw}
    raise ValueError(
        f"the planner gave no valid plan in {role.asks} asks ({'; '.join(problems)}); "
        f"its last output: {raw[:RAW_KEPT]!r}"
    )


def judge_result(
    spec: WorkflowSpec, context: WorkflowContext, input_text: str, tasks: list[SubTask]
) -> dict[str, Any]:
    """The judge's score of the whole plan against the input, in [0, 1]."""
    role = spec.roles["judge"]
    timeline = json.dumps([{"type": t.type, **t.fields} for t in tasks])
    prompt = fill(role.prompt, input=input_text, tasks=timeline)
    raw = _ask(context, role, prompt, JUDGE_SCHEMA)
    try:
        verdict = json.loads(raw)
        value = min(max(float(verdict["score"]), 0.0), 1.0)
        reason = str(verdict.get("reason", ""))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        value, reason = 0.0, f"the judge's output was not a score: {raw[:200]!r}"
    score = Score(supervisor="judge", dimension="coverage", value=value, reason=reason)
    return {"scores": [score.model_dump(mode="json")], "raw": raw}


def rewrite_instruction(
    spec: WorkflowSpec, context: WorkflowContext, task: SubTask, attempt: Attempt
) -> str:
    """The instruction for the next try: the refiner's rewrite when the workflow has one,
    else the old instruction with the failing scores' reasons appended."""
    failing = [
        s for s in attempt.scores if s.dimension in spec.thresholds
        and s.value < spec.thresholds[s.dimension]
    ]  # fmt: skip
    reasons = "; ".join(f"{s.dimension}: {s.reason}" for s in failing) or "scores too low"
    role = spec.roles.get("refiner")
    if role is None:
        return f"{attempt.instruction}\nRevise: {reasons}"
    prompt = fill(
        role.prompt,
        input=task.description(),
        instruction=attempt.instruction,
        reasons=reasons,
    )
    rewritten = _ask(context, role, prompt, None).strip()
    return rewritten or f"{attempt.instruction}\nRevise: {reasons}"
