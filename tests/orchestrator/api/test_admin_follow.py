"""Several API processes over one database: an admin change one process makes reaches the
others' registry and answering service through AdminService.follow_database (two
ApiServices here stand for two processes; the real process tree is test_serve_workers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.api.admin.schemas import ExpertUpdate
from orchestrator.api.services import ApiServices
from orchestrator.experts import Expert
from orchestrator.plan import BatchOptions, Query
from workers.process import wait_for

from .conftest import DATABASES, MC, ScriptedDeployment, database, scripted_settings
from .test_admin import new_expert, only_e1

Pair = tuple[ApiServices, ApiServices]


def started(tmp: Path, db_url: str | None, **overrides: Any) -> ApiServices:
    """What an API process's lifespan does before serving: migrate, sync, load experts."""
    settings = scripted_settings(tmp, db_url=db_url, **overrides)
    services = ApiServices(settings, ScriptedDeployment(settings))
    services.deployment.stores  # noqa: B018
    services.admin.load_stored_experts()
    return services


@pytest.fixture(params=DATABASES)
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pair]:
    """Two processes' services over one database (one SQLite file under the shared data dir,
    or one PostgreSQL schema)."""
    with database(request.param) as url:
        a = started(tmp_path, url)
        b = started(tmp_path, url)
        try:
            yield a, b
        finally:
            a.close()
            b.close()


def drawn(services: ApiServices) -> tuple[str | None, list[str]]:
    """The profile set and the experts drawn for one question (k=3)."""
    report = services.answering.answer([Query(text=MC)], BatchOptions(k=3, aggregation="vote"))
    recruitment = report.traces[0].recruitment
    return recruitment.profile_set, recruitment.drawn


def test_nothing_is_applied_while_nothing_changed(pair: Pair) -> None:
    a, b = pair
    answering, e0 = b.answering, b.deployment.registry.get("e0")
    assert [s.admin.follow_database() for s in (a, b, a, b)] == [False] * 4
    assert b.answering is answering  # not rebuilt
    assert b.deployment.registry.get("e0") is e0  # not replaced


def test_a_disabled_expert_is_disabled_in_the_other_process(pair: Pair) -> None:
    a, b = pair
    a.admin.set_enabled("e0", False)
    assert b.deployment.registry.get("e0").enabled is True  # not yet
    assert b.admin.follow_database() is True
    assert b.deployment.registry.get("e0").enabled is False
    assert "e0" not in b.answering.validate([Query(text=MC)], BatchOptions(k=3, aggregation="vote"))
    assert b.admin.follow_database() is False
    a.admin.set_enabled("e0", True)
    assert b.admin.follow_database() is True
    assert b.deployment.registry.get("e0").enabled is True


def test_a_created_and_then_updated_expert_reaches_the_other_process(pair: Pair) -> None:
    a, b = pair
    a.admin.create_expert(Expert.model_validate(new_expert("fresh")))
    assert b.admin.follow_database() is True
    fresh = b.deployment.registry.get("fresh")
    assert fresh.model == "scripted/fresh" and fresh.n_ctx == 2048
    a.admin.update_expert("fresh", ExpertUpdate(n_ctx=4096))
    a.admin.update_expert("e1", ExpertUpdate(n_ctx=8192))  # one experts.yaml declares
    assert b.admin.follow_database() is True
    assert b.deployment.registry.get("fresh").n_ctx == 4096
    assert b.deployment.registry.get("e1").n_ctx == 8192  # as in the process that changed it
    assert [e.name for e in b.deployment.registry.all()] == ["e0", "e1", "e2", "fresh"]


def test_an_activated_profile_set_rebuilds_the_other_process_answering(pair: Pair) -> None:
    a, b = pair
    a.deployment.stores.profile_sets.save_profile_set(only_e1("first"))
    assert drawn(b)[0] is None
    answering_a = a.answering
    a.admin.activate_profile_set("only-e1", None)
    assert a.answering is not answering_a  # rebuilt by the activation itself ...
    answering_a = a.answering
    assert a.admin.follow_database() is False  # ... and not again for it
    assert a.answering is answering_a
    answering_b = b.answering
    assert b.admin.follow_database() is True
    assert b.answering is not answering_b
    assert drawn(b) == ("only-e1@v1", ["e1", "e1", "e1"])
    assert b.admin.follow_database() is False


def test_the_follow_thread_runs_only_with_several_processes(tmp_path: Path) -> None:
    single = started(tmp_path, None)
    a = started(tmp_path, None, api_workers=2, api_follow_s=0.05)
    b = started(tmp_path, None, api_workers=2, api_follow_s=0.05)
    try:
        for services in (single, a, b):
            services.start_following()
        assert single._follower is None
        a.admin.set_enabled("e2", False)
        wait_for(lambda: not b.deployment.registry.get("e2").enabled, "b to follow", 10)
        assert single.deployment.registry.get("e2").enabled is True  # follows nothing
        follower = b._follower
        assert follower is not None and follower.is_alive()
    finally:
        for services in (single, a, b):
            services.close()
    assert not follower.is_alive()  # stopped by close


def test_a_failing_look_is_logged_and_the_thread_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = started(tmp_path, None, api_workers=2, api_follow_s=0.02)
    looks: list[int] = []

    def flaky() -> bool:
        looks.append(1)
        if len(looks) <= 3:
            raise RuntimeError("database away")
        return False

    monkeypatch.setattr(services.admin, "follow_database", flaky)
    try:
        with caplog.at_level("INFO", logger="orchestrator.api.services"):
            services.start_following()
            wait_for(lambda: len(looks) >= 6, "more looks after the failures", 10)
    finally:
        services.close()
    failures = [r for r in caplog.records if "failed; retrying" in r.getMessage()]
    assert len(failures) == 1 and "database away" in caplog.text  # once per streak
    assert "following the database's admin changes again" in caplog.text
