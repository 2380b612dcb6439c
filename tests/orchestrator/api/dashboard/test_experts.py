"""/admin/experts: the list with draw and load counts (the loads those of the stored batches
that answered), disable (then new plans never draw it) and enable, create and edit with the
API's validation, errors shown on the page."""

from __future__ import annotations

import re
from collections import Counter

from fastapi.testclient import TestClient

from tests.orchestrator.api.conftest import MC, new_key
from tests.orchestrator.api.dashboard.support import log_in


def draws(html: str, expert: str) -> int:
    """The draws column of an expert's row."""
    row = re.search(rf'<tr data-expert="{expert}".*?</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num">(\d+)</td>', row.group(0))
    return int(cells[1])  # memory MB, draws, queries, failed


def test_disabling_an_expert_keeps_new_plans_from_drawing_it(client: TestClient) -> None:
    token = log_in(client, new_key(client, "admin"))
    page = client.get("/admin/experts")
    assert page.status_code == 200 and 'data-expert="e1" class="enabled"' in page.text
    done = client.post("/admin/experts/e1/disable", data={"csrf_token": token})
    assert done.status_code == 200 and "disabled e1" in done.text  # after the redirect
    assert 'data-expert="e1" class="disabled"' in done.text
    user = {"Authorization": f"Bearer {new_key(client, 'user')}"}
    for i in range(6):
        body = client.post(
            "/v1/answers", json={"question": f"{MC} ({i})", "k": 3, "aggregation": "vote"},
            headers=user,
        ).json()  # fmt: skip
        assert "e1" not in body["trace"]["recruitment"]["drawn"]
    client.app.state.dashboard_expert_stats.forget("experts")  # type: ignore[attr-defined]
    counted = client.get("/admin/experts").text  # counted afresh, not the 30 s snapshot
    assert draws(counted, "e1") == 0 and draws(counted, "e0") + draws(counted, "e2") == 18
    again = client.post("/admin/experts/e1/enable", data={"csrf_token": token})
    assert 'data-expert="e1" class="enabled"' in again.text


def loads(html: str, expert: str) -> int:
    """The loads column of an expert's row."""
    row = re.search(rf'<tr data-expert="{expert}".*?</tr>', html, re.S)
    assert row is not None
    found = re.search(r'<td class="num loads">(\d+)</td>', row.group(0))
    assert found is not None
    return int(found.group(1))


def test_loads_are_the_stored_loads_of_the_answering_batches(client: TestClient) -> None:
    log_in(client, new_key(client, "admin"))
    before = client.get("/admin/experts").text
    assert all(loads(before, e) == 0 for e in ("e0", "e1", "e2"))
    user = {"Authorization": f"Bearer {new_key(client, 'user')}"}
    batches = [
        client.post(
            "/v1/answers", json={"question": f"{MC} <{i}>", "k": k, "aggregation": "vote"},
            headers=user,
        ).json()["trace"]["batch_id"]
        for i, k in enumerate((1, 2, 3, 2))
    ]  # fmt: skip
    store = client.app.state.services.deployment.stores.traces  # type: ignore[attr-defined]
    stored = Counter(load.expert for b in set(batches) for load in store.loads(b))
    # a model stays resident: loaded by the first batch that drew it (k=3 drew all three)
    assert set(stored) == {"e0", "e1", "e2"}
    client.app.state.dashboard_expert_stats.forget("experts")  # type: ignore[attr-defined]
    counted = client.get("/admin/experts").text  # counted afresh, not the 30 s snapshot
    assert {e: loads(counted, e) for e in ("e0", "e1", "e2")} == {
        e: stored[e] for e in ("e0", "e1", "e2")
    }


def test_create_and_edit_validate_like_the_api(client: TestClient) -> None:
    token = log_in(client, new_key(client, "admin"))
    bad = client.post("/admin/experts", data={"csrf_token": token, "expert": "name: [x"})
    assert bad.status_code == 400 and "not valid YAML" in bad.text
    unknown = client.post(
        "/admin/experts",
        data={"csrf_token": token, "expert": "name: fresh\nbackend: nonsense\nmodel: m\n"},
    )
    assert unknown.status_code == 400 and "backend" in unknown.text
    assert "name: fresh" in unknown.text  # the draft is kept for correction
    made = client.post(
        "/admin/experts",
        data={"csrf_token": token, "expert": "name: fresh\nbackend: scripted\nmodel: s/f\n"},
    )
    assert made.status_code == 200 and "created fresh" in made.text
    assert (
        client.post(
            "/admin/experts",
            data={"csrf_token": token, "expert": "name: fresh\nbackend: scripted\nmodel: s/f\n"},
        ).status_code
        == 409
    )

    edit = client.get("/admin/experts/fresh")
    assert edit.status_code == 200 and "model: s/f" in edit.text
    saved = client.post(
        "/admin/experts/fresh", data={"csrf_token": token, "changes": "n_ctx: 4096"}
    )
    assert saved.status_code == 200 and "saved fresh" in saved.text
    registry = client.app.state.services.deployment.registry  # type: ignore[attr-defined]
    assert registry.get("fresh").n_ctx == 4096
    wrong = client.post("/admin/experts/fresh", data={"csrf_token": token, "changes": "n_ctx: 1"})
    assert wrong.status_code == 400 and "n_ctx" in wrong.text
    assert client.get("/admin/experts/nobody").status_code == 404
