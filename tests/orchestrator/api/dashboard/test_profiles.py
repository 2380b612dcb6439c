"""/admin/profiles: the heatmap of the active profile set (cell colours and counts, global
competence, filter, sort, pages), switching the active set (CSRF needed; next plans use it)
and comparing two stored sets."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from orchestrator.api.dashboard.profiles_view import colour
from orchestrator.db.profile_sets import ProfileSetStore
from skills.profiles import ProfileSet, SkillScore
from tests.orchestrator.api.conftest import MC, new_key
from tests.orchestrator.api.dashboard.support import log_in


def store(client: TestClient) -> ProfileSetStore:
    services = client.app.state.services  # type: ignore[attr-defined]
    profile_sets: ProfileSetStore = services.deployment.stores.profile_sets
    return profile_sets


def small_set(name: str = "small") -> ProfileSet:
    return ProfileSet(
        name=name,
        experts={
            "e0": {"algebra": SkillScore(score=4, count=6), "logic": SkillScore(score=-2, count=4)},
            "e1": {"algebra": SkillScore(score=-4, count=4)},
            "e2": {"logic": SkillScore(score=1, count=1), "zoology": SkillScore(score=0, count=2)},
        },
        accuracy={"e0": 0.75, "e1": 0.25, "e2": 0.5},
    )


def rows(page: str) -> list[str]:
    """The heatmap's skills, in order."""
    return re.findall(r'<tr data-skill="([^"]+)">', page)


def cells(page: str, skill: str) -> list[tuple[str, str]]:
    """(style, title) of each expert cell in a skill's row."""
    row = re.search(rf'<tr data-skill="{re.escape(skill)}">(.*?)</tr>', page, re.S)
    assert row is not None, skill
    found = re.findall(r'<td class="cell[^"]*"(?: style="([^"]*)")? title="([^"]*)"', row.group(1))
    return [(style, html.unescape(title)) for style, title in found]


def test_the_heatmap_shows_each_cell_s_score_colour_and_counts(client: TestClient) -> None:
    log_in(client, new_key(client, "admin"))
    empty = client.get("/admin/profiles")
    assert empty.status_code == 200 and 'id="no-profile"' in empty.text
    client.app.state.admin.activate_profile_set(  # type: ignore[attr-defined]
        store(client).save_profile_set(small_set()).name, None
    )
    page = client.get("/admin/profiles").text
    assert 'id="shown-set">small@v1<' in page
    assert rows(page) == ["algebra", "logic", "zoology"]
    e0, e1, e2 = cells(page, "algebra")
    # the scale is the largest |score| (4): +4 full blue, -4 full red; no answers: no colour
    assert e0 == ("background: rgb(33, 102, 172); color: #fff", e0[1])
    assert e0[1] == "algebra · e0: score +4 over 6 answers (5 right, 1 wrong)"
    assert e1[0].startswith("background: rgb(178, 24, 43)")
    assert e2 == ("", "algebra · e2: no answers on this skill")
    half = cells(page, "logic")[0]
    # half way from near-white (247, 247, 247) to red (178, 24, 43)
    assert (
        half[0]
        == "background: rgb(212, 136, 145); color: #1d2330"
        == f"background: {colour(-2, 4)}; color: #1d2330"
    )
    assert "score -2 over 4 answers (1 right, 3 wrong)" in half[1]
    # global competence per expert: the sum of its scores, coloured the same way
    competence = re.search(r'<tr class="summary" id="competence">(.*?)</tr>', page, re.S)
    assert competence is not None
    assert re.findall(r">(-?\d+)</td>", competence.group(1)) == ["2", "-4", "1"]
    accuracy = re.search(r'<tr class="summary" id="accuracy">(.*?)</tr>', page, re.S)
    assert accuracy is not None and re.findall(r">(\d+)%</td>", accuracy.group(1)) == [
        "75",
        "25",
        "50",
    ]


def test_filter_sort_and_pages(client: TestClient) -> None:
    log_in(client, new_key(client, "admin"))
    experts = {
        f"e{m}": {
            f"skill-{s:03d}": SkillScore(score=(s * (m + 1)) % 7 - 3, count=7) for s in range(120)
        }
        for m in range(3)
    }
    experts["e1"]["only-e1"] = SkillScore(score=9, count=9)
    store(client).save_profile_set(ProfileSet(name="big", experts=experts), activate=True)
    client.app.state.services.deployment.forget_profile()  # type: ignore[attr-defined]

    first = client.get("/admin/profiles").text
    assert rows(first) == ["only-e1", *[f"skill-{s:03d}" for s in range(49)]]
    assert "Skills 1\u201350 of 121" in first and "page 1 of 3" in first
    third = client.get("/admin/profiles?page=3").text
    assert rows(third) == [f"skill-{s:03d}" for s in range(99, 120)]
    assert client.get("/admin/profiles?page=4").status_code == 400

    filtered = client.get("/admin/profiles?q=SKILL-11").text
    assert rows(filtered) == [f"skill-11{d}" for d in range(10)]
    assert "matching “SKILL-11”" in filtered

    by_e1 = rows(client.get("/admin/profiles?sort=expert:e2&dir=desc").text)
    scores = [experts["e2"][s].score for s in by_e1[:49]]
    assert scores == sorted(scores, reverse=True) and by_e1[-1] != "only-e1"
    last_page = rows(client.get("/admin/profiles?sort=expert:e2&dir=desc&page=3").text)
    assert last_page[-1] == "only-e1"  # e2 never answered it: last, whichever the direction
    assert rows(client.get("/admin/profiles?sort=expert:e1").text)[0] == "only-e1"
    known = rows(client.get("/admin/profiles?sort=known&dir=asc").text)
    assert known[0] == "only-e1"  # one expert knows it, three know the others

    for bad in ("sort=expert:nobody", "sort=size", "dir=up", "page=0", "page=x", "set=big@v9"):
        refused = client.get(f"/admin/profiles?{bad}")
        assert refused.status_code in (400, 404), bad
        assert 'class="error"' in refused.text, bad


def test_activating_a_set_needs_csrf_and_changes_the_next_plans(client: TestClient) -> None:
    token = log_in(client, new_key(client, "admin"))
    only_e1 = ProfileSet(name="only-e1", experts={"e1": {"logic": SkillScore(score=3, count=3)}})
    store(client).save_profile_set(only_e1)
    listed = client.get("/admin/profiles").text
    assert 'data-set="only-e1@v1"' in listed and 'action="/admin/profiles/activate"' in listed

    refused = client.post("/admin/profiles/activate", data={"name": "only-e1", "version": "1"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert client.app.state.services.deployment.profile is None  # type: ignore[attr-defined]
    for version, status in (("0", 400), ("x", 400), ("7", 404)):
        bad = client.post(
            "/admin/profiles/activate",
            data={"name": "only-e1", "version": version, "csrf_token": token},
        )
        assert bad.status_code == status and 'class="error"' in bad.text, version

    done = client.post(
        "/admin/profiles/activate", data={"name": "only-e1", "version": "1", "csrf_token": token}
    )
    assert done.status_code == 200 and "activated only-e1@v1" in done.text
    assert 'id="shown-set">only-e1@v1<' in done.text
    user = {"Authorization": f"Bearer {new_key(client, 'user')}"}
    trace = client.post(
        "/v1/answers", json={"question": MC, "k": 2, "aggregation": "vote"}, headers=user
    ).json()["trace"]
    assert trace["recruitment"]["profile_set"] == "only-e1@v1"
    assert trace["recruitment"]["drawn"] == ["e1", "e1"]


def test_compare_two_stored_sets(client: TestClient) -> None:
    log_in(client, new_key(client, "admin"))
    before = small_set("cmp")
    after = small_set("cmp")
    after.experts["e0"]["algebra"] = SkillScore(score=-1, count=9)  # -5
    del after.experts["e2"]  # removed: logic +1, zoology 0
    after.experts["e3"] = {"geometry": SkillScore(score=2, count=2)}  # added
    after.accuracy = {"e0": 0.5, "e1": 0.25, "e3": 1.0}
    store(client).save_profile_set(before)
    store(client).save_profile_set(after)

    form = client.get("/admin/profiles/compare")
    assert form.status_code == 200 and '<option value="cmp@v2">' in form.text
    page = client.get("/admin/profiles/compare?a=cmp@v1&b=cmp@2").text
    assert 'id="compared">cmp@v1 → cmp@v2<' in page
    changed = re.findall(r'<tr data-cell="([^"]+)" class="(\w+)">', page)
    assert changed == [
        ("algebra|e0", "changed"),
        ("geometry|e3", "added"),
        ("logic|e2", "removed"),
        ("zoology|e2", "removed"),
    ]
    assert re.findall(r'style="[^"]*">([+-]\d+)</td>', page) == ["-5", "+2", "-1", "+0"]
    assert (
        "3 (skill, expert) cells changed" not in page and "4 (skill, expert) cells changed" in page
    )
    experts = dict(re.findall(r'<tr data-expert="(\w+)" class="(\w+)">', page))
    assert experts == {"e0": "changed", "e1": "same", "e2": "removed", "e3": "added"}
    assert re.search(r'id="skills-added"><strong>Added \(1\):</strong> geometry', page)
    assert re.search(r'id="skills-removed"><strong>Removed \(1\):</strong> zoology', page)

    only_removed = client.get("/admin/profiles/compare?a=cmp@v1&b=cmp@v2&kind=removed").text
    assert re.findall(r'<tr data-cell="([^"]+)"', only_removed) == ["logic|e2", "zoology|e2"]
    assert client.get("/admin/profiles/compare?a=cmp@v1&b=nope").status_code == 404
    assert client.get("/admin/profiles/compare?a=cmp@vx&b=cmp").status_code == 400
    assert client.get("/admin/profiles/compare?a=cmp@v1").status_code == 400
