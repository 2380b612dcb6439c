"""The Profiles and Playground pages in Debian's chromium against a real `symoe serve` of its
own (two scripted experts; two versions of a profile set over the whole skill vocabulary
stored in its database, none active): activate one from the page and see its heatmap
(colours, hover counts, filter, sort, pages), compare the two versions; in the playground,
see a question's plan (nothing stored), run it, and open its trace link. A screenshot of
each page is saved (tests/artifacts/screenshots, or $SYMOE_TEST_ARTIFACTS)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from orchestrator.db import ProfileSetStore, make_engine, session_factory
from skills.profiles import ProfileSet, SkillScore
from skills.vocabulary import load_default_skills
from tests.browser_support import DashboardServer, login, running_dashboard, scripted_expert, shot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


def vocabulary_set(version: int) -> ProfileSet:
    """e0 and e1 scored on every skill of the vocabulary (so any tagged question has
    candidates); the second version moves some scores and drops a few of e1's skills."""
    skills = load_default_skills()
    e0 = {
        s: SkillScore(score=(i % 9) - 4 + (version - 1) * (i % 2), count=8)
        for i, s in enumerate(skills)
    }
    e1 = {s: SkillScore(score=3 - (i % 7), count=6) for i, s in enumerate(skills)}
    if version == 2:
        e1 = {s: v for i, (s, v) in enumerate(e1.items()) if i % 40}
    return ProfileSet(
        name="vocab", benchmark="demo", split="train", experts={"e0": e0, "e1": e1},
        accuracy={"e0": 0.6, "e1": 0.4},
    )  # fmt: skip


@pytest.fixture(scope="module")
def profiled_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardServer]:
    home: Path = tmp_path_factory.mktemp("profiles")
    with running_dashboard(home) as server:
        # the server's own SQLite database (it is up, so migrated); stored, not activated
        engine = make_engine(f"sqlite:///{server.env['SYMOE_DATA_DIR']}/symoe.db")
        store = ProfileSetStore(session_factory(engine))
        store.save_profile_set(vocabulary_set(1))
        store.save_profile_set(vocabulary_set(2))
        engine.dispose()
        yield server


def stored_queries(server: DashboardServer) -> int:
    response = httpx.get(
        f"{server.base_url}/v1/admin/stats/recruitment",
        headers={"Authorization": f"Bearer {server.admin_key}"},
        timeout=30,
    )
    response.raise_for_status()
    return int(response.json()["queries"])


def test_activate_a_profile_set_and_read_its_heatmap(
    page: Page, profiled_server: DashboardServer
) -> None:
    login(page, profiled_server)
    page.click("nav >> text=Profiles")
    assert page.locator("#no-profile").is_visible()
    page.once("dialog", lambda dialog: dialog.accept())  # "Recruit with vocab@v2 ...?"
    page.locator("tr[data-set='vocab@v2'] button[type='submit']").click()
    page.wait_for_url("**/admin/profiles?done=*")
    assert page.locator("#shown-set").inner_text() == "vocab@v2"
    assert page.locator("#heatmap tbody tr").count() == 50
    assert "of 240" in page.locator("#heatmap-range").inner_text()
    shot(page, "dashboard-profiles")
    # sorted by e0's score: its strongest (+5 at v2) first, painted full blue; hover: counts
    page.click("#heatmap th.expert[data-expert='e0'] a")
    strongest = page.locator("#heatmap tbody tr").first.locator("td.cell").first
    assert strongest.inner_text() == "5"
    assert strongest.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(33, 102, 172)"
    assert "score +5 over 8 answers" in (strongest.get_attribute("title") or "")

    page.fill("#skill-filter input[name='q']", "algebra")
    page.click("#skill-filter button[type='submit']")
    skills = page.locator("#heatmap tbody tr th").all_inner_texts()
    assert skills and all("algebra" in s for s in skills)
    cells = page.locator("#heatmap tbody tr td.cell:nth-of-type(3)").all_inner_texts()
    scores = [int(c) for c in cells if c.strip()]
    assert scores == sorted(scores, reverse=True)
    shot(page, "dashboard-profiles-filtered")

    page.goto(f"{profiled_server.base_url}/admin/profiles/compare?a=vocab@v1&b=vocab@v2")
    assert page.locator("#compared").inner_text() == "vocab@v1 → vocab@v2"
    assert page.locator("#cell-changes tbody tr.removed").count() >= 1
    shot(page, "dashboard-profiles-compare")


def test_plan_a_question_then_run_it_and_open_its_trace(
    page: Page, profiled_server: DashboardServer
) -> None:
    page.set_default_timeout(120_000)  # the first plan loads the tagger's embedding model
    login(page, profiled_server)
    page.click("nav >> text=Playground")
    before = stored_queries(profiled_server)
    page.fill("textarea[name='question']", MC)
    page.fill("input[name='k']", "2")
    page.select_option("select[name='aggregation']", "vote")
    page.click("#ask button[type='submit']")
    plan = page.locator("#plan")
    assert "nothing has run yet" in plan.locator("h2").inner_text()
    assert page.locator("#plan-skills tbody tr").count() >= 1
    assert page.locator("#plan-experts tbody tr").count() >= 1
    assert page.locator("#plan-drawn .chip").count() == 2
    assert stored_queries(profiled_server) == before  # the plan stored nothing
    shot(page, "dashboard-playground-plan")

    page.click("#run-form button[type='submit']")
    link = page.locator("#trace-link")
    link.wait_for()
    assert page.url.endswith("/admin/playground/plan")  # run by the page's script, in place
    assert page.locator("#extracted").inner_text() == "B"
    assert page.locator("#calls tbody tr").count() == 2
    assert stored_queries(profiled_server) == before + 1
    shot(page, "dashboard-playground-trace")

    href = link.get_attribute("href") or ""
    assert href.startswith("/admin/queries/")
    with page.expect_navigation() as navigation:
        link.click()
    response = navigation.value
    assert response is not None and response.status == 200
    assert page.url.endswith(href)
    shot(page, "dashboard-query-from-playground")


def test_a_slow_run_shows_its_plan_and_answer_while_it_goes(
    page: Page, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Experts that take 2 s each: the draw is on the page before the answer exists, and the
    finished trace replaces it once the run is done."""
    slow = [scripted_expert(name) for name in ("s0", "s1")]
    for expert in slow:
        expert["options"] = {**expert["options"], "delay_s": 2}  # type: ignore[dict-item]
    with running_dashboard(tmp_path_factory.mktemp("slow"), slow) as server:
        page.set_default_timeout(120_000)
        login(page, server)
        page.goto(f"{server.base_url}/admin/playground")
        page.fill("textarea[name='question']", MC)
        page.fill("input[name='k']", "2")
        page.select_option("select[name='aggregation']", "vote")
        page.click("#ask button[type='submit']")
        page.click("#run-form button[type='submit']")
        live = page.locator("#run-result .live-plan")
        live.wait_for()  # the plan, streamed while the experts still work
        assert live.inner_text().startswith("Drawn: s")
        assert page.locator("#trace-link").count() == 0
        shot(page, "dashboard-playground-live")
        page.locator("#trace-link").wait_for()
        assert page.locator("#extracted").inner_text() == "B"
