"""Grouping: every stage's prompts are grouped by model, so a stage loads each model it
needs once, however many queries the batch holds."""

from __future__ import annotations

from pydantic import BaseModel, Field

from workers.types import GenerationParams, GroupOutcome, ModelSpec, Prompt


class StageRequest(BaseModel):
    key: str = Field(description="query id")
    slot: int = 0
    expert: str
    prompt: Prompt


class Group(BaseModel):
    stage: str
    spec: ModelSpec
    params: GenerationParams
    requests: list[StageRequest]


class GroupResult(GroupOutcome):
    """A group's outcome (completions aligned with its requests), named by stage and expert."""

    stage: str
    expert: str


def group_by_model(
    stage: str,
    requests: list[StageRequest],
    specs: dict[str, ModelSpec],
    params: dict[str, GenerationParams],
) -> list[Group]:
    """One group per distinct expert, the most demanded first (it is loaded first, so the
    largest share of work starts earliest)."""
    by_expert: dict[str, list[StageRequest]] = {}
    for req in requests:
        by_expert.setdefault(req.expert, []).append(req)
    order = sorted(by_expert, key=lambda name: (-len(by_expert[name]), name))
    return [
        Group(stage=stage, spec=specs[name], params=params[name], requests=by_expert[name])
        for name in order
    ]
