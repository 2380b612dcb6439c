"""TraceWriter: group commits on SQLite and (marked postgres) PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from orchestrator.db import DuplicateBatchError, Stores
from orchestrator.db.trace_writer import TraceWriter, TraceWriterClosedError
from orchestrator.trace import BatchReport
from tests.orchestrator.db.test_traces import make_report


def test_concurrent_saves_share_commits_and_each_is_stored(stores: Stores) -> None:
    writer = TraceWriter(stores.traces, batch_max=64, commit_delay_s=0.05)
    reports = [make_report(f"b{i}", [f"q{i}a", f"q{i}b"]) for i in range(40)]
    try:
        with ThreadPoolExecutor(40) as executor:
            list(executor.map(writer.save, reports))  # each returns once committed
    finally:
        writer.close()
    assert writer.stats.reports == 40 and writer.stats.failed == 0
    assert writer.stats.commits < 40  # group commits: several traces per transaction
    assert writer.stats.largest > 1
    for report in reports:
        assert stores.traces.get_batch(report.batch_id) == report


def test_a_bad_report_fails_alone_and_its_caller_hears_why(stores: Stores) -> None:
    stores.traces.save_batch(make_report("stored", ["q0"]))
    writer = TraceWriter(stores.traces, commit_delay_s=0.2)  # gathers all three into one
    try:
        good, clash, also_good = (
            writer.submit(make_report("b1", ["q1"])),
            writer.submit(make_report("stored", ["q2"])),  # its batch id is taken
            writer.submit(make_report("b3", ["q3"])),
        )
        good.result(timeout=10), also_good.result(timeout=10)
        with pytest.raises(DuplicateBatchError):
            clash.result(timeout=10)
    finally:
        writer.close()
    assert stores.traces.get_trace("q1") and stores.traces.get_trace("q3")
    assert stores.traces.get_trace("q2") is None
    assert writer.stats.failed == 1


def test_close_stores_everything_queued_then_refuses(stores: Stores) -> None:
    writer = TraceWriter(stores.traces, commit_delay_s=30)  # nothing commits before close
    futures = [writer.submit(make_report(f"b{i}", [f"q{i}"])) for i in range(5)]
    assert not any(f.done() for f in futures)
    writer.close()
    assert all(f.result(timeout=0) is None for f in futures)
    assert all(stores.traces.get_trace(f"q{i}") for i in range(5))
    with pytest.raises(TraceWriterClosedError, match="closed"):
        writer.submit(make_report("late", ["q-late"]))


def test_a_full_queue_holds_callers_back_until_there_is_room(stores: Stores) -> None:
    writer = TraceWriter(stores.traces, queue_max=2, commit_delay_s=30)
    first = [writer.submit(make_report(f"b{i}", [f"q{i}"])) for i in range(2)]
    third_in = threading.Event()
    refused: list[Exception] = []

    def third() -> None:
        try:
            writer.submit(make_report("b2", ["q2"]))
        except TraceWriterClosedError as exc:
            refused.append(exc)
        third_in.set()

    thread = threading.Thread(target=third)
    thread.start()
    assert not third_in.wait(0.3)  # held back: the queue is full
    writer.close()  # the held caller is refused with a clear error, the queue is stored
    thread.join(10)
    assert not thread.is_alive() and len(refused) == 1
    assert all(f.result(timeout=0) is None for f in first)
    assert stores.traces.get_trace("q1") and stores.traces.get_trace("q2") is None


def test_an_empty_batch_list_is_no_transaction(stores: Stores) -> None:
    assert stores.traces.save_batches([]) == []
    report: BatchReport = make_report("b1", ["q1"])
    assert stores.traces.save_batches([report]) == [None]
    (error,) = stores.traces.save_batches([report])
    assert isinstance(error, DuplicateBatchError)
