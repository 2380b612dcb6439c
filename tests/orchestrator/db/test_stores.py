"""Stores: one store per noun over one database."""

from __future__ import annotations

from orchestrator.db import Stores


def test_every_store_shares_the_one_sessionmaker(stores: Stores) -> None:
    sessions = stores.sessions
    assert stores.traces.sessions is sessions
    assert stores.profile_sets.sessions is sessions
    assert stores.experts.sessions is sessions
    assert stores.eval_runs.sessions is sessions
    assert stores.jobs.sessions is sessions
    assert stores.keys.sessions is sessions
