"""Ranking a sub-task type's candidates: file order, the measured profile smoothed with a
prior (ties and unseen candidates keep the file's order), and rules matched on the
sub-task's fields; the route checks a workflow file gets when it loads."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from orchestrator.errors import ConfigError
from orchestrator.workflows.routing import (
    ROUTERS,
    CandidateStats,
    Ranked,
    RouteRule,
    profile_ranking,
    rules_ranking,
)
from orchestrator.workflows.spec import parse_workflow
from orchestrator.workflows.types import SubTask
from tests.orchestrator.workflows.scripted import workflow

ABC = ["a", "b", "c"]


def order(ranking: list[Ranked]) -> list[str]:
    return [r.candidate for r in ranking]


def test_the_registry_names_the_routes() -> None:
    assert ROUTERS.names() == ["order", "profile", "rules"]
    task = SubTask(id="1-beep", type="beep")
    assert order(ROUTERS.create("order").rank(ABC, task, {"c": CandidateStats(9, 9, 1.0)})) == ABC


def test_profile_ranks_by_smoothed_acceptance_then_score() -> None:
    stats = {
        "a": CandidateStats(attempts=4, passed=0, mean_score=0.3),
        "b": CandidateStats(attempts=4, passed=4, mean_score=0.9),
    }
    ranking = profile_ranking(ABC, stats)
    # b: (4 + 1) / 6 = 0.83; c unseen: the prior 0.5; a: (0 + 1) / 6 = 0.17
    assert order(ranking) == ["b", "c", "a"]
    b, c, a = ranking
    assert b.estimate == pytest.approx(5 / 6) and a.estimate == pytest.approx(1 / 6)
    assert (c.attempts, c.estimate) == (0, 0.5)
    assert c.reason == "not tried before: estimate 0.50, score 0.50"
    assert b.reason == "4 of 4 tries passed, mean 0.90: estimate 0.83, score 0.77"


def test_one_bad_try_does_not_rule_a_candidate_out() -> None:
    # a failed its only try; b passed 1 of 10
    stats = {"a": CandidateStats(1, 0, 0.0), "b": CandidateStats(10, 1, 0.2)}
    ranking = profile_ranking(["b", "a"], stats)
    assert order(ranking) == ["a", "b"]  # a: (0 + 1) / 3 = 0.33; b: (1 + 1) / 12 = 0.17
    assert ranking[0].estimate == pytest.approx(1 / 3)
    # without the prior one failed try is a 0 for good: b (0.1) would go first
    assert order(profile_ranking(["b", "a"], stats, prior_weight=0.0)) == ["b", "a"]
    # equal acceptance estimates (1/3 each): the smoothed score decides, b's 0.5 over a's 0.33
    stats = {"a": CandidateStats(1, 0, 0.0), "b": CandidateStats(4, 1, 0.5)}
    ranking = profile_ranking(["a", "b"], stats)
    assert ranking[0].estimate == ranking[1].estimate and order(ranking) == ["b", "a"]


def test_ties_and_unseen_keep_the_file_order() -> None:
    assert order(profile_ranking(ABC, {})) == ABC
    same = CandidateStats(3, 2, 0.7)
    assert order(profile_ranking(["c", "a", "b"], {"a": same, "c": same, "b": same})) == [
        "c",
        "a",
        "b",
    ]
    # same acceptance, better score: first
    stats = {"c": CandidateStats(2, 1, 0.9), "a": CandidateStats(2, 1, 0.6)}
    assert order(profile_ranking(ABC, stats)) == ["c", "a", "b"]


def rules(*raw: dict[str, Any]) -> list[RouteRule]:
    return [RouteRule.model_validate(r) for r in raw]


def test_rules_put_the_first_matching_rule_first() -> None:
    routes = rules(
        {"when": {"mood": ["calm", "sad"], "loud": False}, "prefer": ["c"]},
        {"when": {"mood": "calm"}, "prefer": ["b", "a"]},
        {"when": {}, "prefer": ["b"]},
    )
    calm = SubTask(id="1-music", type="music", fields={"mood": "calm", "loud": False})
    ranking = rules_ranking(ABC, routes, calm)
    assert order(ranking) == ["c", "a", "b"]
    assert ranking[0].reason == "rule 0 (mood=['calm', 'sad'], loud=False) prefers it"
    assert ranking[1].reason == "file order after rule 0 (mood=['calm', 'sad'], loud=False)"
    loud_calm = SubTask(id="2-music", type="music", fields={"mood": "calm", "loud": True})
    assert order(rules_ranking(ABC, routes, loud_calm)) == ["b", "a", "c"]
    no_mood = SubTask(id="3-music", type="music", fields={})
    assert order(rules_ranking(ABC, routes, no_mood)) == ["b", "a", "c"]  # the catch-all
    ranking = rules_ranking(ABC, routes[:2], no_mood)
    assert order(ranking) == ABC and ranking[0].reason == "no rule matched: file order"


def test_a_rule_matches_the_type_as_a_field() -> None:
    (rule,) = rules({"when": {"type": "beep"}, "prefer": ["b"]})
    assert rule.matches(SubTask(id="1", type="beep"))
    assert not rule.matches(SubTask(id="2", type="x"))


def routed(route: str, extra: str = "") -> str:
    text = workflow("[echo, broken]")
    old = "supervisors: [revisions]}"
    assert old in text
    return text.replace(old, f"supervisors: [revisions], route: {route}{extra}}}")


def test_a_workflow_file_names_its_route() -> None:
    assert parse_workflow(workflow(), "beeps.yaml").subtasks.types["beep"].route == "order"
    spec = parse_workflow(routed("profile"), "beeps.yaml")
    assert spec.subtasks.types["beep"].route == "profile"
    rule = ", rules: [{when: {description: [x, y]}, prefer: [broken]}]"
    spec = parse_workflow(routed("rules", rule), "beeps.yaml")
    (parsed,) = spec.subtasks.types["beep"].rules
    assert parsed.when == {"description": ["x", "y"]} and parsed.prefer == ["broken"]
    assert spec.subtasks.item_fields() == ["type", "description"]


@pytest.mark.parametrize(
    ("route", "extra", "message"),
    [
        ("best", "", r"subtasks\.types\.beep\.route: unknown workflow route 'best' \(known: "),
        ("rules", "", r"subtasks\.types\.beep\.rules: route: rules needs at least one rule"),
        (
            "profile",
            ", rules: [{when: {}, prefer: [echo]}]",
            r"subtasks\.types\.beep\.rules: only read with route: rules \(route is 'profile'\)",
        ),
        (
            "rules",
            ", rules: [{prefer: [echo]}, {when: {}, prefer: [espeak]}]",
            r"subtasks\.types\.beep\.rules\.1\.prefer: 'espeak' is not one of the candidates "
            r"\(echo, broken\)",
        ),
        (
            "rules",
            ", rules: [{when: {mood: calm}, prefer: [echo]}]",
            r"subtasks\.types\.beep\.rules\.0\.when: 'mood' is not a field of the sub-task "
            r"items \(fields: type, description\)",
        ),
        (
            "rules",
            ", rules: [{when: {}, prefer: []}]",
            r"subtasks\.types\.beep\.rules\.0\.prefer: List should have at least 1 item",
        ),
        (
            "rules",
            ", rules: [{when: {}, prefer: [echo, echo]}]",
            r"subtasks\.types\.beep\.rules\.0: .*prefer: a name repeats",
        ),
        (
            "rules",
            ", rules: [{when: {}, prefer: [echo], also: 1}]",
            r"subtasks\.types\.beep\.rules\.0\.also: Extra inputs",
        ),
    ],
)
def test_a_bad_route_is_refused_naming_the_file_and_field(
    route: str, extra: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=f"^beeps.yaml: {message}"):
        parse_workflow(routed(route, extra), "beeps.yaml")


def test_an_item_schema_without_properties_allows_no_rule_field() -> None:
    raw = yaml.safe_load(routed("rules", ", rules: [{when: {description: a}, prefer: [echo]}]"))
    del raw["subtasks"]["schema"]["properties"]["events"]["items"]
    with pytest.raises(ConfigError, match=r"'description' is not a field .*\(fields: none\)"):
        parse_workflow(yaml.safe_dump(raw), "beeps.yaml")
