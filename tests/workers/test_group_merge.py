"""GroupMerger with a fake execute function that the tests can hold on an Event: an idle key
runs at once, groups arriving during a run go together in the next one, each caller gets its
own slice, a failure reaches every caller of its run, different sampling never merges."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from workers.group_merge import GroupMerger, _Task, split_outcome
from workers.pool import ModelPool
from workers.types import Completion, GenerationParams, GroupOutcome, ModelSpec, Prompt

SPEC = ModelSpec(name="e", backend="scripted", model="e")
OTHER = ModelSpec(name="f", backend="scripted", model="f")
PARAMS = GenerationParams(max_tokens=8)


class FakeExecute:
    """Records each call's prompts and prefetch; the first call blocks until `release`."""

    def __init__(self, fail: Callable[[list[str]], BaseException | None] | None = None) -> None:
        self.calls: list[tuple[list[str], list[str]]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail = fail
        self._lock = threading.Lock()

    def __call__(
        self,
        spec: ModelSpec,
        params: GenerationParams,
        prompts: list[Prompt],
        prefetch: list[ModelSpec],
    ) -> GroupOutcome:
        texts = [p.messages[-1].content for p in prompts]
        with self._lock:
            first = not self.calls
            self.calls.append((texts, [s.name for s in prefetch]))
        if first:
            self.entered.set()
            assert self.release.wait(10)
        error = self.fail(texts) if self.fail else None
        if error is not None:
            raise error
        return GroupOutcome(
            completions=[Completion(text=f"{spec.name}:{t}") for t in texts],
            item_errors=[f"err {t}" if t.endswith("!") else None for t in texts],
            loaded=True,  # each call loads: only the first task of a merged run says so
            load_seconds=1.5,
            seconds=2.0,
        )


def _prompts(*texts: str) -> list[Prompt]:
    return [Prompt.user(t) for t in texts]


def _wait_waiting(merger: GroupMerger, n: int) -> None:
    """Until `n` callers wait behind the run in flight (white box: the merger's queue)."""
    deadline = time.monotonic() + 10
    while sum(len(w) for w in merger._waiting.values()) < n:
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_an_idle_key_runs_at_once_in_the_callers_thread() -> None:
    fake = FakeExecute()
    fake.release.set()
    runs: list[int] = []
    merger = GroupMerger(fake, runs.append)
    out = merger.run(SPEC, PARAMS, _prompts("a", "b!"), [OTHER])
    assert [c.text for c in out.completions if c] == ["e:a", "e:b!"]
    assert out.item_errors == [None, "err b!"] and out.loaded and out.load_seconds == 1.5
    assert fake.calls == [(["a", "b!"], ["f"])] and runs == [1]
    assert merger._waiting == {}  # the idle key is forgotten


def test_groups_arriving_during_a_run_go_together_as_the_next_run_each_with_its_slice() -> None:
    fake = FakeExecute()
    pool = ModelPool(100)
    merger = GroupMerger(fake, pool.count_run)
    with ThreadPoolExecutor(6) as threads:
        first = threads.submit(merger.run, SPEC, PARAMS, _prompts("first"))
        assert fake.entered.wait(10)
        later: list[Future[GroupOutcome]] = []
        for i in range(5):
            prompts = _prompts(*(f"t{i}.{j}" + ("!" if j else "") for j in range(i + 1)))
            later.append(threads.submit(merger.run, SPEC, PARAMS, prompts, [OTHER]))
            _wait_waiting(merger, i + 1)  # in this order
        fake.release.set()
        assert [c.text for c in first.result(10).completions if c] == ["e:first"]
        outs = [f.result(10) for f in later]
    assert len(fake.calls) == 2
    merged_prompts, prefetch = fake.calls[1]
    assert merged_prompts == [
        f"t{i}.{j}" + ("!" if j else "") for i in range(5) for j in range(i + 1)
    ]
    assert prefetch == ["f"]  # the union, once
    for i, out in enumerate(outs):
        texts = [f"t{i}.{j}" + ("!" if j else "") for j in range(i + 1)]
        assert [c.text for c in out.completions if c] == [f"e:{t}" for t in texts]
        assert out.item_errors == [f"err {t}" if t.endswith("!") else None for t in texts]
        assert out.seconds == 2.0 and out.error is None
    assert [(out.loaded, out.load_seconds) for out in outs] == [(True, 1.5)] + [(False, 0)] * 4
    assert (pool.stats.group_runs, pool.stats.merged_runs, pool.stats.merged_tasks) == (2, 1, 4)
    assert merger._waiting == {}


def test_a_failed_loads_outcome_is_cut_along_the_tasks_too() -> None:
    batch = [_Task(SPEC, PARAMS, _prompts("a"), []), _Task(SPEC, PARAMS, _prompts("b", "c"), [])]
    failed = GroupOutcome(completions=[None] * 3, loaded=False, seconds=0.5, error="no model")
    pieces = split_outcome(failed, batch)
    assert [(len(p.completions), p.item_errors, p.error) for p in pieces] == [
        (1, [], "no model"),
        (2, [], "no model"),
    ]


@pytest.mark.parametrize("how", ["raised", "reported"])
def test_a_failure_reaches_every_caller_of_its_run_and_only_those(how: str) -> None:
    def fail(texts: list[str]) -> BaseException | None:
        return RuntimeError("boom") if how == "raised" and "bad" in texts else None

    fake = FakeExecute(fail)
    original = fake.__call__

    def execute(
        spec: ModelSpec, params: GenerationParams, prompts: list[Prompt], pf: list[ModelSpec]
    ) -> GroupOutcome:
        out = original(spec, params, prompts, pf)
        if how == "reported" and "bad" in [p.messages[-1].content for p in prompts]:
            return out.model_copy(update={"error": "backend failed"})
        return out

    merger = GroupMerger(execute)
    with ThreadPoolExecutor(4) as threads:
        first = threads.submit(merger.run, SPEC, PARAMS, _prompts("ok"))
        assert fake.entered.wait(10)
        merged = [threads.submit(merger.run, SPEC, PARAMS, _prompts(t)) for t in ("bad", "x")]
        _wait_waiting(merger, 2)
        fake.release.set()
        assert first.result(10).error is None
        for future in merged:
            if how == "raised":
                with pytest.raises(RuntimeError, match="boom"):
                    future.result(10)
            else:
                assert future.result(10).error == "backend failed"
    # the key is free again: the next group runs at once, alone
    assert merger.run(SPEC, PARAMS, _prompts("after")).error is None
    assert [c[0] for c in fake.calls] == [["ok"], ["bad", "x"], ["after"]]


def test_different_params_or_specs_never_merge() -> None:
    fake = FakeExecute()
    merger = GroupMerger(fake)
    with ThreadPoolExecutor(4) as threads:
        first = threads.submit(merger.run, SPEC, PARAMS, _prompts("p0"))
        assert fake.entered.wait(10)
        # other keys run at once, beside the one in flight
        hot = GenerationParams(max_tokens=8, temperature=0.7)
        assert merger.run(SPEC, hot, _prompts("hot")).completions[0] is not None
        assert merger.run(OTHER, PARAMS, _prompts("other")).completions[0] is not None
        a = threads.submit(merger.run, SPEC, PARAMS, _prompts("a"))
        b = threads.submit(merger.run, SPEC, hot, _prompts("b"))  # hot is idle again: at once
        assert b.result(10).completions[0] is not None
        _wait_waiting(merger, 1)
        fake.release.set()
        first.result(10)
        a.result(10)
    assert [c[0] for c in fake.calls] == [["p0"], ["hot"], ["other"], ["b"], ["a"]]
