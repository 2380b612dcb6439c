"""/admin/queries: questions answered through /v1/answers by the scripted experts are listed
newest first, found and excluded by each filter, walked page by page without a repeat or a
gap; a query's page shows its trace as a tree (skills, weights, each drawn expert's answer
with tokens and seconds, the aggregate; passages and citations where retrieval ran)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from orchestrator.trace import (
    BatchReport,
    ModelCall,
    Passage,
    Recruitment,
    RetrievalDecision,
    SkillTagging,
    Trace,
    TraceEvent,
)
from tests.orchestrator.api.conftest import MC, new_key
from tests.orchestrator.api.dashboard.support import log_in


def ask(client: TestClient, headers: dict[str, str], question: str, **options: Any) -> Any:
    body = {"question": question, "k": 2, "aggregation": "vote", **options}
    response = client.post("/v1/answers", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def listed(html: str) -> list[str]:
    """The query ids of a list page's rows, in order."""
    return re.findall(r'<tr data-query="([0-9a-f]+)"', html)


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_search_finds_and_excludes(client: TestClient, user_headers: dict[str, str]) -> None:
    alpha = [ask(client, user_headers, f"Alpha {i}: {MC}", experts=["e0"]) for i in range(2)]
    beta = ask(client, user_headers, f"Beta: {MC}", experts=["e1", "e2"])
    log_in(client, new_key(client, "admin"))
    first, second = (b["trace"]["query_id"] for b in alpha)
    ids, beta_id = {first, second}, beta["trace"]["query_id"]

    page = client.get("/admin/queries")
    assert page.status_code == 200
    assert listed(page.text) == [beta_id, second, first]  # newest first
    assert "3 queries stored" in page.text
    assert set(listed(client.get("/admin/queries?q=alpha").text)) == ids  # any case
    assert listed(client.get("/admin/queries?q=beta").text) == [beta_id]
    assert listed(client.get("/admin/queries?expert=e0").text) == listed(
        client.get("/admin/queries?q=Alpha&expert=e0&status=answered").text
    )
    assert set(listed(client.get("/admin/queries?expert=e0").text)) == ids
    assert listed(client.get("/admin/queries?expert=e2&q=alpha").text) == []
    nothing = client.get("/admin/queries?status=failed")
    assert listed(nothing.text) == [] and "No stored query matches" in nothing.text
    assert listed(client.get("/admin/queries?error=memory").text) == []


def test_a_failed_query_is_found_by_status_and_error(client: TestClient) -> None:
    store = client.app.state.services.deployment.stores.traces  # type: ignore[attr-defined]
    store.save_batch(BatchReport(batch_id="b-failed", traces=[retrieval_trace("q-ok")]))
    failed = retrieval_trace("q-bad").model_copy(
        update={"error": "BackendError: e9 ran out of memory", "calls": [], "answer": ""}
    )
    store.save_batch(BatchReport(batch_id="b-failed-2", traces=[failed]))
    log_in(client, new_key(client, "admin"))
    page = client.get("/admin/queries?status=failed").text
    assert 'data-query="q-bad"' in page and 'data-query="q-ok"' not in page
    assert "ran out of memory" in page
    by_error = client.get("/admin/queries?error=OUT+OF+MEMORY").text
    assert 'data-query="q-bad"' in by_error and 'data-query="q-ok"' not in by_error


def test_pages_walk_newest_first_without_repeats(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    asked = [ask(client, user_headers, f"Q{i}: {MC}")["trace"]["query_id"] for i in range(7)]
    log_in(client, new_key(client, "admin"))
    seen: list[list[str]] = []
    url: str | None = "/admin/queries?limit=3"
    while url is not None:
        html = client.get(url).text
        seen.append(listed(html))
        url = link(html, "next")
    assert seen == [asked[::-1][0:3], asked[::-1][3:6], asked[::-1][6:]]
    last = client.get(
        link(client.get(link(client.get("/admin/queries?limit=3").text, "next") or "").text, "next")
        or ""
    ).text
    assert link(last, "next") is None
    back = link(last, "prev")
    assert back is not None and listed(client.get(back).text) == asked[::-1][3:6]


def test_bad_parameters_are_told_on_the_page(client: TestClient) -> None:
    log_in(client, new_key(client, "admin"))
    for query, says in [
        ("status=lost", "status: one of answered, failed"),
        ("limit=0", "limit: a whole number from 1 to 200"),
        ("limit=abc", "limit: a whole number"),
        ("before=garbage", "not a page position"),
        ("before=2026-01-01T00:00:00%2B00:00~x&after=2026-01-01T00:00:00%2B00:00~y", "not both"),
        ("q=" + "x" * 501, "q: at most 500 characters"),
    ]:
        response = client.get(f"/admin/queries?{query}")
        assert response.status_code == 400, query
        assert says in response.text, (query, response.text[-800:])
        assert "Traceback" not in response.text
    missing = client.get("/admin/queries/nope")
    assert missing.status_code == 404 and "no stored query with id" in missing.text


def test_the_trace_tree_shows_drawn_experts_and_their_answers(
    client: TestClient, user_headers: dict[str, str]
) -> None:
    body = ask(client, user_headers, MC, k=3, experts=["e0", "e2"])
    trace = body["trace"]
    log_in(client, new_key(client, "admin"))
    html = client.get(f"/admin/queries/{trace['query_id']}").text
    tree = html[html.index('<ul class="tree" id="trace">') :]
    # nested: skills > weights > drawn > slots > aggregate
    order = [tree.index(m) for m in ("node-skills", "node-weights", "node-drawn", "node-aggregate")]
    assert order == sorted(order)
    slots = re.findall(r'data-slot="(\d+)"><details[^>]*>\s*<summary>slot \d+: <strong>(\w+)', tree)
    assert [name for _, name in slots] == trace["recruitment"]["drawn"]
    assert set(trace["recruitment"]["drawn"]) <= {"e0", "e2"}
    for call in (c for c in trace["calls"] if c["stage"] == "experts"):
        assert f"{call['expert']} thinks. The answer is (B)." in tree
        tokens = f"{call['prompt_tokens']} + {call['completion_tokens']} tokens"
        assert tokens in tree
    assert re.search(r'data-weight="e0"><td>e0</td><td class="num">0\.\d{3}', tree)
    assert 'data-weight="e1"' not in tree  # not a candidate
    assert "Final answer" in tree and '<span class="extracted">B</span>' in tree
    assert "did not retrieve" in tree


def retrieval_trace(query_id: str) -> Trace:
    """A trace as a retrieving run leaves it: passages, a cited answer, a failed and
    replaced expert."""
    passages = [
        Passage(number=1, chunk_id=10, source="notes/sun.md", text="The sun is a star.", score=0.9),
        Passage(number=2, chunk_id=11, source="notes/moon.md", text="The moon orbits.", score=0.4),
    ]
    return Trace(
        query_id=query_id,
        question="What is the sun? <script>alert(1)</script>",
        tagging=SkillTagging(
            method="embedding", skills=["astronomy"], similarities={"astronomy": 0.75}
        ),
        recruitment=Recruitment(
            recruiter="symbolic",
            profile_set="local@v2",
            weights={"e0": 0.7, "e1": 0.3},
            global_competence={"e0": 0.6, "e1": 0.4},
            drawn=["e1", "e0"],
            aggregator="e2",
        ),
        retrieval=RetrievalDecision(
            gate="always",
            retrieve=True,
            reasons=["gate says always"],
            passages=passages,
            search_seconds=0.125,
            passage_tokens=12,
        ),
        events=[
            TraceEvent(kind="expert_failed", stage="experts", expert="e1", slot=0, error="boom"),
            TraceEvent(kind="replaced", stage="experts", expert="e1", slot=0, replacement="e0"),
        ],
        calls=[
            ModelCall(
                stage="experts",
                expert="e0",
                slot=0,
                text="A star [1].",
                prompt_tokens=40,
                completion_tokens=4,
                seconds=0.5,
                extracted="star",
            ),
            ModelCall(
                stage="experts",
                expert="e0",
                slot=1,
                text="A star, see [1, 2].",
                prompt_tokens=41,
                completion_tokens=6,
                seconds=0.25,
            ),
            ModelCall(
                stage="aggregate",
                expert="e2",
                text="The sun is a star [1].",
                prompt_tokens=90,
                completion_tokens=7,
                seconds=0.75,
            ),
        ],
        answer="The sun is a star [1].",
        extracted_answer="a star",
        seconds=1.5,
    )


def test_the_trace_tree_shows_passages_citations_and_replacements(client: TestClient) -> None:
    store = client.app.state.services.deployment.stores.traces  # type: ignore[attr-defined]
    store.save_batch(BatchReport(batch_id="b-rag", traces=[retrieval_trace("q-rag")]))
    log_in(client, new_key(client, "admin"))
    html = client.get("/admin/queries/q-rag").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "astronomy" in html and "similarity 0.750" in html and "local@v2" in html
    first = html[html.index('data-slot="0"') : html.index('data-slot="1"')]
    assert "<strong>e1</strong>" in first and "answered by e0" in first
    assert "expert failed: e1" in first and "boom" in first and "replaced: e1 → e0" in first
    assert "cites [1]" in first
    second = html[html.index('data-slot="1"') : html.index("node-aggregate")]
    assert "cites [1][2]" in second and "41 + 6 tokens" in second and "0.25 s" in second
    aggregate = html[html.index("node-aggregate") : html.index("node-retrieval")]
    assert "aggregate · e2 · 90 + 7 tokens · 0.75 s" in aggregate
    assert '<span class="extracted">a star</span>' in aggregate
    retrieval = html[html.index("node-retrieval") :]
    assert "retrieved 2 passages" in retrieval and "gate says always" in retrieval
    assert 'class="passage cited" data-passage="1"' in retrieval
    assert 'class="passage" data-passage="2"' in retrieval  # the final answer cites only [1]
    assert "notes/sun.md" in retrieval and "The moon orbits." in retrieval
