"""JobStore, on SQLite and (marked postgres) on PostgreSQL; the API's job tests drive it
through the executor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from orchestrator.db import JobStore, Stores
from orchestrator.db.jobs import IdempotencyKeyTaken
from orchestrator.db.models import JobRow
from tests.orchestrator.db.test_traces import make_report


@pytest.fixture
def store(stores: Stores) -> JobStore:
    return stores.jobs


def test_create_read_and_cancel(store: JobStore) -> None:
    summary = store.create("j1", "k1", "retry-1", {"options": {}}, ["q0", "q1"])
    assert (summary.status, summary.total, summary.completed) == ("queued", 2, 0)
    assert summary.created_at.tzinfo is UTC and summary.updated_at == summary.created_at
    job = store.get("j1")
    assert job is not None and job.summary == summary
    assert (job.key_id, job.request) == ("k1", {"options": {}})
    assert store.find_idempotent("k1", "retry-1") == job
    assert store.find_idempotent("k2", "retry-1") is None
    with pytest.raises(IdempotencyKeyTaken):
        store.create("j2", "k1", "retry-1", {}, ["q"])
    assert [(i.index, i.question, i.status) for i in store.items("j1", 1, 5)] == [
        (1, "q1", "queued")
    ]
    assert store.cancel("j1") == 2
    assert store.cancel("j1") is None  # finished already
    progress = store.progress("j1")
    assert progress is not None and progress.status == "cancelled"
    assert store.get("nope") is None and store.progress("nope") is None


def test_claim_answer_a_chunk_and_finish(store: JobStore) -> None:
    store.create("j1", None, None, {}, ["q0", "q1"])
    assert store.waiting_items() == 2
    claimed = store.claim_next(lease_s=60)
    assert claimed is not None and claimed.summary.status == "running"
    assert store.claim_next(lease_s=60) is None  # held by a live executor
    assert store.next_chunk("j1", 5) == [(0, "q0"), (1, "q1")]
    assert store.save_chunk("j1", [0, 1], make_report("b1", ["a", "b"]))
    assert store.finish("j1")
    items = store.items("j1", 0, 5)
    assert [(i.status, i.query_id) for i in items] == [("done", "a"), ("failed", "b")]
    progress = store.progress("j1")
    assert progress is not None and (progress.status, progress.completed) == ("done", 2)
    assert store.waiting_items() == 0


def test_a_lease_written_in_another_zone_runs_out_on_time(store: JobStore) -> None:
    """The last beat is compared as an instant: an offset other than UTC (which SQLite would
    otherwise drop) neither shortens nor stretches the lease."""
    store.create("j1", None, None, {}, ["q0"])
    assert store.claim_next(lease_s=60) is not None
    a_minute_ago = datetime.now(timezone(timedelta(hours=-5))) - timedelta(seconds=60)
    with store.sessions.begin() as session:
        row = session.get(JobRow, "j1")
        assert row is not None
        row.updated_at = a_minute_ago
    assert store.claim_next(lease_s=120) is None
    taken = store.claim_next(lease_s=30)
    assert taken is not None and taken.summary.id == "j1"
    assert taken.summary.updated_at.tzinfo is UTC
