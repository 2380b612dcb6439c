"""Micro-batching with scripted experts: concurrent single-query requests share groups, and
every caller still gets exactly its own answers."""

from __future__ import annotations

import threading
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
    # each expert echoes the question's number, so a mixed-up split would show
    experts = [
        scripted_expert(
            f"e{i}",
            options={
                "responses": {f"#{q}#": f"e{i} on #{q}#. The answer is (B)." for q in range(32)}
            },
        )
        for i in range(4)
    ]
    registry = ExpertRegistry(experts)
    pool = ModelPool(10_000)
    runner = MicroBatchingRunner(InProcessRunner(pool), window_s=0.3)
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
    # one merged group per (stage, expert): at most 4 + 1, far below the 96 handed in
    assert runner.stats.groups_sent <= 5
    assert pool.stats.loads == 4
    for q, report in enumerate(reports):
        (trace,) = report.traces
        calls = [c for c in trace.calls if c.stage == "experts"]
        assert len(calls) == 2 and all(f"on #{q}#." in c.text for c in calls)
        assert trace.extracted_answer == "B"


class _Recording(Runner):
    def __init__(self) -> None:
        self.groups: list[Group] = []

    def run_groups(
        self, groups: list[Group], on_text: GroupTextSink | None = None
    ) -> list[GroupResult]:
        self.groups.extend(groups)
        g = groups[0]
        return [
            GroupResult(
                stage=g.stage,
                expert=g.spec.name,
                completions=[None] * len(g.requests),
                item_errors=[f"item {r.key}" for r in g.requests],
                loaded=True,
                load_seconds=1.5,
            )
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


def test_a_full_bucket_flushes_without_waiting_and_params_keep_groups_apart() -> None:
    inner = _Recording()
    runner = MicroBatchingRunner(inner, window_s=60, max_group=3)  # only size can flush
    with ThreadPoolExecutor(2) as executor:
        first = executor.submit(runner.run_groups, [_group("x", 1)])
        second = executor.submit(runner.run_groups, [_group("y", 2)])
        x, y = first.result(timeout=5)[0], second.result(timeout=5)[0]
    assert len(inner.groups) == 1 and len(inner.groups[0].requests) == 3
    assert {x.item_errors[0], y.item_errors[0]} == {"item x0", "item y0"}
    assert [x.loaded, y.loaded].count(True) == 1  # the load is reported once
    assert sorted([x.load_seconds, y.load_seconds]) == [0.0, 1.5]

    quick = MicroBatchingRunner(_Recording(), window_s=0.05)
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
    assert runner.stats.groups_sent == 1  # one merged group ...
    assert got == {"x": ["one", " two", " three"], "y": ["four", " five"]}  # ... two streams
