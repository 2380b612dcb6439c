"""Micro-batching with scripted experts: concurrent single-query requests share groups, and
every caller still gets exactly its own answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from orchestrator.experts import ExpertRegistry
from orchestrator.plan import BatchOptions, Query
from orchestrator.runners import InProcessRunner, MicroBatchingRunner, Runner
from orchestrator.runners.base import GroupTextSink
from orchestrator.scheduler import Group, GroupResult, StageRequest
from tests.orchestrator.conftest import build_answering, scripted_expert
from workers.pool import ModelPool
from workers.types import GenerationParams, ModelSpec, Prompt

MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


def test_concurrent_queries_share_groups_and_keep_their_own_answers() -> None:
    # each expert echoes the question's number, so a mixed-up split would show; each call
    # takes 50 ms, as a model's would, so requests arrive while a group is in flight
    experts = [
        scripted_expert(
            f"e{i}",
            options={
                "responses": {f"#{q}#": f"e{i} on #{q}#. The answer is (B)." for q in range(32)},
                "delay_s": 0.05,
            },
        )
        for i in range(4)
    ]
    registry = ExpertRegistry(experts)
    pool = ModelPool(10_000)
    runner = MicroBatchingRunner(InProcessRunner(pool), window_s=5)  # waits never end it
    answering = build_answering(registry, runner)
    start = threading.Barrier(32)

    def ask(q: int) -> object:
        start.wait()
        return answering.answer(
            [Query(text=f"{MC} #{q}#")], BatchOptions(k=2, aggregation="llm", aggregator="e0")
        )

    with ThreadPoolExecutor(32) as executor:
        reports = list(executor.map(ask, range(32)))

    # per query: a group per distinct drawn expert (a draw may repeat one) and the aggregator's
    expected_in = sum(len(set(r.traces[0].recruitment.drawn)) + 1 for r in reports)
    assert runner.stats.groups_in == expected_in >= 32 * 2
    # the first group of each (stage, expert) goes at once, the rest gather behind it
    assert runner.stats.groups_sent <= 15
    assert pool.stats.loads == 4
    for q, report in enumerate(reports):
        (trace,) = report.traces
        calls = [c for c in trace.calls if c.stage == "experts"]
        assert len(calls) == 2 and all(f"on #{q}#." in c.text for c in calls)
        assert trace.extracted_answer == "B"


class _Gated(Runner):
    """Records the groups it is sent; each call waits until the test opens the gate."""

    def __init__(self, gated: bool = True) -> None:
        self.calls: list[list[Group]] = []
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)
        if not gated:
            self.gate.set()

    def run_groups(
        self, groups: list[Group], on_text: GroupTextSink | None = None
    ) -> list[GroupResult]:
        self.calls.append(groups)
        self.started.release()
        assert self.gate.wait(10)
        for gi, g in enumerate(groups):  # stream each request's key as its text
            for i, r in enumerate(g.requests):
                if on_text:
                    on_text(gi, i, r.key)
        return [
            GroupResult(
                stage=g.stage,
                expert=g.spec.name,
                completions=[None] * len(g.requests),
                item_errors=[f"item {r.key}" for r in g.requests],
                loaded=True,
                load_seconds=1.5,
            )
            for g in groups
        ]


def _group(key: str, n: int, temperature: float = 0.0) -> Group:
    return Group(
        stage="experts",
        spec=ModelSpec(name="a", backend="scripted", model="a"),
        params=GenerationParams(temperature=temperature),
        requests=[
            StageRequest(key=f"{key}{i}", expert="a", prompt=Prompt.user(key)) for i in range(n)
        ],
    )


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in 10 s"
        time.sleep(0.002)


def test_an_idle_expert_gets_its_group_at_once() -> None:
    inner = _Gated(gated=False)
    runner = MicroBatchingRunner(inner, window_s=60)  # a wait would outlast the test
    with ThreadPoolExecutor(1) as executor:
        (result,) = executor.submit(runner.run_groups, [_group("x", 2)]).result(timeout=5)
    assert result.item_errors == ["item x0", "item x1"]
    assert runner.stats.sent_idle == runner.stats.groups_sent == 1


def test_a_busy_expert_gathers_the_groups_that_arrive_meanwhile() -> None:
    inner = _Gated()
    runner = MicroBatchingRunner(inner, window_s=60)  # only the flight's end sends them
    with ThreadPoolExecutor(6) as executor:
        first = executor.submit(runner.run_groups, [_group("p", 1)])
        assert inner.started.acquire(timeout=5)  # in flight, held at the gate
        later = [executor.submit(runner.run_groups, [_group(k, 2)]) for k in "qrstu"]
        _wait_for(lambda: runner.stats.groups_in == 6)
        assert len(inner.calls) == 1  # nothing more sent while the first is in flight
        inner.gate.set()
        results = [first.result(timeout=5)[0], *(f.result(timeout=5)[0] for f in later)]
    assert [len(g.requests) for (g,) in inner.calls] == [1, 10]
    assert runner.stats.sent_after_flight == 1 and runner.stats.groups_sent == 2
    # no caller gets another's result
    assert [r.item_errors for r in results] == [
        ["item p0"],
        *([f"item {k}0", f"item {k}1"] for k in "qrstu"),
    ]
    assert [r.loaded for r in results[1:]].count(True) == 1  # the load is reported once


def test_under_load_the_maximum_wait_or_a_full_group_sends_beside_the_flight() -> None:
    inner = _Gated()
    runner = MicroBatchingRunner(inner, window_s=0.05, max_group=3)
    with ThreadPoolExecutor(4) as executor:
        first = executor.submit(runner.run_groups, [_group("p", 1)])
        assert inner.started.acquire(timeout=5)
        waited = executor.submit(runner.run_groups, [_group("q", 1)])
        assert inner.started.acquire(timeout=5)  # sent after 50 ms, the first still held
        assert runner.stats.sent_after_wait == 1
        full = executor.submit(runner.run_groups, [_group("r", 3)])  # full: no wait at all
        assert inner.started.acquire(timeout=5)
        assert runner.stats.sent_full == 1
        inner.gate.set()
        got = [f.result(timeout=5)[0].item_errors for f in (first, waited, full)]
    assert got == [["item p0"], ["item q0"], ["item r0", "item r1", "item r2"]]

    quick = MicroBatchingRunner(_Gated(gated=False), window_s=0.05)
    quick.run_groups([_group("p", 1), _group("q", 1, temperature=0.5)])
    assert quick.stats.groups_sent == 2  # different sampling never merges


def test_each_caller_gets_only_its_own_streamed_text() -> None:
    pool = ModelPool(10_000)
    runner = MicroBatchingRunner(InProcessRunner(pool), window_s=0.3)
    assert runner.streams
    spec = ModelSpec(
        name="a",
        backend="scripted",
        model="a",
        options={"responses": {"x": "one two three", "y": "four five"}},
    )

    def group(key: str) -> Group:
        request = StageRequest(key=key, expert="a", prompt=Prompt.user(key))
        return Group(stage="experts", spec=spec, params=GenerationParams(), requests=[request])

    got: dict[str, list[str]] = {"x": [], "y": []}
    start = threading.Barrier(2)

    def call(key: str) -> None:
        start.wait()
        runner.run_groups([group(key)], lambda _g, _i, text: got[key].append(text))

    with ThreadPoolExecutor(2) as executor:
        list(executor.map(call, ["x", "y"]))
    assert runner.stats.groups_sent <= 2  # merged when one arrived during the other's flight
    assert got == {"x": ["one", " two", " three"], "y": ["four", " five"]}  # ... two streams


def test_streams_of_a_merged_group_reach_only_their_callers() -> None:
    inner = _Gated()
    runner = MicroBatchingRunner(inner, window_s=60)
    got: dict[str, list[tuple[int, str]]] = {"x": [], "y": []}

    def call(key: str, n: int) -> list[GroupResult]:
        return runner.run_groups([_group(key, n)], lambda _g, i, t: got[key].append((i, t)))

    with ThreadPoolExecutor(3) as executor:
        first = executor.submit(runner.run_groups, [_group("p", 1)])
        assert inner.started.acquire(timeout=5)
        x, y = executor.submit(call, "x", 2), executor.submit(call, "y", 1)
        _wait_for(lambda: runner.stats.groups_in == 3)
        inner.gate.set()
        for f in (first, x, y):
            f.result(timeout=5)
    assert [len(g.requests) for (g,) in inner.calls] == [1, 3]  # x and y in one group
    assert got == {"x": [(0, "x0"), (1, "x1")], "y": [(0, "y0")]}
