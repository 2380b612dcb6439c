"""A snapshot is counted once per ttl and shared meanwhile; forgetting it counts afresh."""

from __future__ import annotations

from orchestrator.api.dashboard.snapshots import Snapshots


def test_a_snapshot_is_shared_until_it_expires_or_is_forgotten() -> None:
    counts: list[int] = []

    def count() -> int:
        counts.append(len(counts) + 1)
        return counts[-1]

    kept = Snapshots[int](ttl_s=3600)
    first = kept.get("k", count)
    assert kept.get("k", count) is first and first.value == 1
    assert kept.get("other", count).value == 2  # one per key
    kept.forget("k")
    assert kept.get("k", count).value == 3
    expired = Snapshots[int](ttl_s=0)
    assert expired.get("k", count).value == 4 and expired.get("k", count).value == 5
