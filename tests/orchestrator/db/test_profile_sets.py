"""ProfileSetStore, on SQLite and (marked postgres) on PostgreSQL."""

from __future__ import annotations

import pytest

from orchestrator.db import ProfileSetStore, Stores
from orchestrator.errors import InputError
from skills.profiles import ProfileSet, SkillScore


@pytest.fixture
def store(stores: Stores) -> ProfileSetStore:
    return stores.profile_sets


def profile(name: str, score: int = 2) -> ProfileSet:
    return ProfileSet(
        name=name,
        created_at="2026-01-02T03:04:05+00:00",  # fixed, so two builds compare equal
        benchmark="mmlu_pro",
        split="validation",
        tagger="embedding",
        command="symoe profile build",
        questions=10,
        experts={"smol": {"calculus": SkillScore(score=score, count=4)}},
        accuracy={"smol": 0.625},
        aggregators={"math": "gemma"},
        aggregator_scores={"math": {"gemma": 0.5}},
    )


def test_profile_set_versions_and_activation(store: ProfileSetStore) -> None:
    assert store.active_profile_set() is None
    v1 = store.save_profile_set(profile("local", 1), activate=True)
    v2 = store.save_profile_set(profile("local", 2), activate=False)
    other = store.save_profile_set(profile("other"), activate=False)
    assert (v1.version, v2.version, other.version) == (1, 2, 1)
    assert store.active_profile_set() == v1  # saving v2 without activate keeps v1 active
    assert store.get_profile_set("local") == v2
    assert store.get_profile_set("local", 1) == v1 == profile("local", 1)

    store.save_profile_set(profile("other"), activate=True)
    assert store.active_profile_set() == store.get_profile_set("other", 2)
    assert store.activate_profile_set("local", 2) == v2
    assert store.active_profile_set() == v2
    listing = store.list_profile_sets()
    assert all(p.stored_at.tzinfo is not None for p in listing)
    assert [(p.name, p.version, p.active) for p in listing] == [
        ("local", 1, False),
        ("local", 2, True),
        ("other", 1, False),
        ("other", 2, False),
    ]
    with pytest.raises(InputError, match="missing@v3"):
        store.activate_profile_set("missing", 3)
