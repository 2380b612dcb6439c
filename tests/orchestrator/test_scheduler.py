"""group_by_model: one group per expert, the most demanded first, each with its own spec and
generation params."""

from __future__ import annotations

from orchestrator.scheduler import StageRequest, group_by_model
from workers.types import GenerationParams, ModelSpec, Prompt


def _request(key: str, expert: str, slot: int = 0) -> StageRequest:
    return StageRequest(
        key=key, slot=slot, expert=expert, prompt=Prompt.user(f"{key} for {expert}")
    )


SPECS = {
    name: ModelSpec(name=name, backend="scripted", model=f"scripted/{name}", n_ctx=n_ctx)
    for name, n_ctx in (("alpha", 512), ("beta", 1024), ("gamma", 4096))
}
PARAMS = {
    "alpha": GenerationParams(max_tokens=8),
    "beta": GenerationParams(max_tokens=16, temperature=0.5),
    "gamma": GenerationParams(max_tokens=32, stop=["\n"]),
}


def test_most_demanded_expert_first_and_ties_by_name() -> None:
    requests = [
        _request("q1", "beta"),
        _request("q1", "gamma"),
        _request("q2", "gamma"),
        _request("q1", "alpha"),
        _request("q2", "alpha"),
        _request("q3", "gamma"),
    ]
    groups = group_by_model("experts", requests, SPECS, PARAMS)
    # gamma has three requests, alpha two, beta one
    assert [g.spec.name for g in groups] == ["gamma", "alpha", "beta"]
    tied = group_by_model(
        "experts", [_request("q", "gamma"), _request("q", "alpha")], SPECS, PARAMS
    )
    assert [g.spec.name for g in tied] == ["alpha", "gamma"]


def test_one_group_per_expert_keeps_the_requests_in_their_order() -> None:
    requests = [
        _request("q1", "beta", slot=0),
        _request("q1", "alpha", slot=1),
        _request("q2", "beta", slot=0),
        _request("q1", "beta", slot=2),
    ]
    groups = group_by_model("tag", requests, SPECS, PARAMS)
    assert len(groups) == 2
    beta, alpha = groups
    assert [(r.key, r.slot) for r in beta.requests] == [("q1", 0), ("q2", 0), ("q1", 2)]
    assert {r.expert for r in beta.requests} == {"beta"}
    assert [(r.key, r.slot, r.expert) for r in alpha.requests] == [("q1", 1, "alpha")]
    assert [g.stage for g in groups] == ["tag", "tag"]


def test_each_group_carries_its_experts_spec_and_params() -> None:
    requests = [_request("q1", name) for name in ("alpha", "beta", "gamma")]
    groups = group_by_model("aggregate", requests, SPECS, PARAMS)
    for group in groups:
        name = group.requests[0].expert
        assert group.spec == SPECS[name]
        assert group.params == PARAMS[name]
    assert [(g.spec.n_ctx, g.params.max_tokens) for g in groups] == [
        (512, 8),
        (1024, 16),
        (4096, 32),
    ]


def test_no_requests_make_no_groups() -> None:
    assert group_by_model("experts", [], SPECS, PARAMS) == []
