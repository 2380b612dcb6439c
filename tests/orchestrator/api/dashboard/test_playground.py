"""/admin/playground: the plan of a question (skills, weighted experts, the draw, the
retrieval decision) shown before anything runs, with no model call and nothing stored; then
Run answers it through the answers service, stored like POST /v1/answers, and shows the
trace with a link to its query page; bad options are refused with the API's messages."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator.api.app import create_app
from orchestrator.db.traces import TraceStore
from orchestrator.settings import Settings
from orchestrator.taggers import Tagger
from skills.profiles import ProfileSet, SkillScore
from tests.orchestrator.api.conftest import MC, ScriptedDeployment, new_key
from tests.orchestrator.api.dashboard.support import log_in
from tests.orchestrator.conftest import FixedTagger

SKILLS = ["algebra", "logic"]


class SkilledDeployment(ScriptedDeployment):
    """Every question is tagged with SKILLS (no embedding model needed)."""

    def tagger(self, name: str | None = None) -> Tagger:
        return FixedTagger(SKILLS)


@pytest.fixture
def skilled(api_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(deployment=SkilledDeployment(api_settings))) as test_client:
        services = test_client.app.state.services  # type: ignore[attr-defined]
        services.deployment.stores.profile_sets.save_profile_set(
            ProfileSet(
                name="pg",
                experts={
                    "e0": {"algebra": SkillScore(score=3, count=3)},
                    "e1": {
                        "algebra": SkillScore(score=-1, count=3),
                        "logic": SkillScore(score=2, count=2),
                    },
                    "e2": {"zoology": SkillScore(score=2, count=2)},
                },
            ),
            activate=True,
        )
        services.rebuild_answering()
        yield test_client


def traces(client: TestClient) -> TraceStore:
    store: TraceStore = client.app.state.services.deployment.stores.traces  # type: ignore[attr-defined]
    return store


def count_model_calls(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A counter of the groups the API's runner is asked to run (every model call is one)."""
    runner = client.app.state.services.runner  # type: ignore[attr-defined]
    calls: list[int] = []
    real = runner.run_groups

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "run_groups", counting)
    return calls


def plan_weights(page: str) -> dict[str, tuple[str, int]]:
    """expert -> (weight as shown, times drawn) from the plan's recruitment table."""
    table = re.search(r'<table id="plan-experts">(.*?)</table>', page, re.S)
    assert table is not None
    rows = re.findall(
        r'<tr data-expert="(\w+)".*?<td class="num">([\d.\u2013]+)</td>\s*<td class="bar-cell">.*?'
        r'<td class="num">(\d+)</td>',
        table.group(1),
        re.S,
    )
    return {name: (weight, int(drawn)) for name, weight, drawn in rows}


def test_the_plan_is_shown_before_anything_runs(
    skilled: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = log_in(skilled, new_key(skilled, "admin"))
    form = skilled.get("/admin/playground")
    assert form.status_code == 200 and 'action="/admin/playground/plan"' in form.text
    calls = count_model_calls(skilled, monkeypatch)
    page = skilled.post(
        "/admin/playground/plan",
        data={"csrf_token": token, "question": MC, "k": "3", "aggregation": "vote"},
    )
    assert page.status_code == 200, page.text
    assert calls == [] and traces(skilled).recent() == []  # no model ran, nothing stored
    assert "Plan — nothing has run yet" in page.text
    assert re.findall(r'<tr data-skill="(\w+)">', page.text) == SKILLS
    assert "profile set pg@v1" in page.text
    weights = plan_weights(page.text)
    assert list(weights) == ["e0", "e1", "e2"]  # weighted heaviest first, then the rest
    assert weights["e2"] == ("\u2013", 0)  # e2 answered no question of these skills: no weight
    assert sum(drawn for _, drawn in weights.values()) == 3
    drawn = re.search(r'<p id="plan-drawn">(.*?)</p>', page.text, re.S)
    assert drawn is not None
    order = re.findall(r'<span class="chip">(\w+)</span>', drawn.group(1))
    assert sorted(order) == sorted(n for n, (_, d) in weights.items() for _ in range(d))
    assert 'id="plan-retrieval" data-retrieve="no"' in page.text  # the default gate: never
    assert "<strong>vote</strong>" in page.text
    # the Run form carries the same question, options and the draw shown
    run_form = re.search(
        r'<form method="post" action="/admin/playground/run".*?</form>', page.text, re.S
    )
    assert run_form is not None
    assert f'name="planned" value="{",".join(order)}"' in run_form.group(0)

    # Run: the answers service answers it and stores it; the page links its query page
    ran = skilled.post(
        "/admin/playground/run",
        data={
            "csrf_token": token, "question": MC, "k": "3", "aggregation": "vote",
            "planned": ",".join(order),
        },
    )  # fmt: skip
    assert ran.status_code == 200, ran.text
    assert calls  # now the experts ran
    link = re.search(r'<a id="trace-link" href="/admin/queries/(\w+)">', ran.text)
    assert link is not None
    stored = traces(skilled).get_trace(link.group(1))
    assert stored is not None and stored.question == MC
    assert stored.recruitment.drawn == order  # the draw the plan showed
    assert "drawn as planned" in ran.text
    assert {m: f"{w:.3f}" for m, w in stored.recruitment.weights.items()} == {
        m: w for m, (w, _) in weights.items() if m != "e2"
    }
    assert '<span class="chip" id="extracted">B</span>' in ran.text
    assert "The answer is (B)." in ran.text
    assert len(re.findall(r'<tr data-stage="', ran.text)) == len(stored.calls) == 3


def test_run_needs_csrf_and_bad_options_get_the_api_s_messages(client: TestClient) -> None:
    token = log_in(client, new_key(client, "admin"))
    refused = client.post("/admin/playground/run", data={"question": MC})
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert traces(client).recent() == []
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"question": "   "}, 400, "question: must not be blank"),
        ({"question": MC, "k": "x"}, 400, "k: Input should be a valid integer"),
        ({"question": MC, "k": "999"}, 400, "k=999 exceeds the budget"),
        ({"question": MC, "aggregation": "nope"}, 400, "aggregation: unknown"),
        ({"question": MC, "experts": ["ghost"]}, 404, "ghost"),
    ]
    for route in ("plan", "run"):
        for fields, status, message in cases:
            page = client.post(f"/admin/playground/{route}", data={"csrf_token": token, **fields})
            assert page.status_code == status, (route, fields, page.text[-500:])
            assert message in page.text, (route, fields)
            assert 'class="error"' in page.text
            if fields["question"].strip():
                assert f">{MC}</textarea>" in page.text  # the form keeps what was typed
    # without a profile set: uniform weights over every enabled expert, and said so
    plain = client.post("/admin/playground/plan", data={"csrf_token": token, "question": MC})
    assert plain.status_code == 200 and "profile set none" in plain.text
    assert "no profile set: uniform weights" in plain.text
    assert {w for w, _ in plan_weights(plain.text).values()} == {"0.333"}
    assert traces(client).recent() == []


def sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(event, data) of a server-sent event stream's blocks."""
    found = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        rows = dict(row.split(": ", 1) for row in block.splitlines() if ": " in row)
        if "event" in rows:
            found.append((rows["event"], json.loads(rows["data"])))
    return found


def test_a_live_run_streams_its_plan_then_its_answer_then_the_page(skilled: TestClient) -> None:
    token = log_in(skilled, new_key(skilled, "admin"))
    fields = {"csrf_token": token, "question": MC, "k": "3", "aggregation": "vote"}
    with skilled.stream("POST", "/admin/playground/live", data=fields) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse("".join(response.iter_text()))
    names = [name for name, _ in events]
    assert names[0] == "plan" and names[-1] == "done" and set(names) == {"plan", "text", "done"}
    plan, done = events[0][1], events[-1][1]
    assert plan["skills"] == SKILLS and len(plan["drawn"]) == 3
    stored = traces(skilled).get_trace(done["query_id"])
    assert stored is not None and stored.recruitment.drawn == plan["drawn"]
    assert "".join(d["text"] for name, d in events if name == "text") == stored.answer
    assert f'<a id="trace-link" href="/admin/queries/{done["query_id"]}">' in done["page"]

    # refused before running: the page with its status, not a stream; nothing stored
    blank = skilled.post("/admin/playground/live", data={**fields, "question": " "})
    assert blank.status_code == 400 and "question: must not be blank" in blank.text
    no_token = skilled.post("/admin/playground/live", data={"question": MC})
    assert no_token.status_code == 403
    # a failure while planning: an `error` event with the page saying why
    with skilled.stream(
        "POST", "/admin/playground/live", data={**fields, "experts": ["ghost"]}
    ) as response:
        failed = sse("".join(response.iter_text()))
    assert [name for name, _ in failed] == ["error"] and "ghost" in failed[0][1]["message"]
    assert 'class="error"' in failed[0][1]["page"]
    assert len(traces(skilled).recent()) == 1
