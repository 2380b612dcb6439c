"""Merging a worker's concurrent groups for one model: each API process batches only its own
groups, so those of several API processes meet first in the expert's queue, and a worker with
`--pool threads --concurrency N` holds up to N of them at once. Run one by one, they cost N
generate calls; merged, the model decodes them together in one.

Continuous and caller-runs (no thread of its own), per key (spec, sampling params): a group
whose key has nothing running in this process runs at once; groups arriving meanwhile wait,
and when the running one ends they run as ONE call over all their prompts, in the thread of
the first of them. Each caller gets back exactly its own slice of the outcome.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from workers.types import GenerationParams, GroupOutcome, ModelSpec, Prompt

# (spec, params, prompts, prefetch) -> outcome: execute_group with its pool bound
Execute = Callable[[ModelSpec, GenerationParams, list[Prompt], list[ModelSpec]], GroupOutcome]
# called once per run with the number of tasks it served (1: not merged)
OnRun = Callable[[int], None]


@dataclass
class _Task:
    spec: ModelSpec
    params: GenerationParams
    prompts: list[Prompt]
    prefetch: list[ModelSpec]
    wake: threading.Event = field(default_factory=threading.Event)
    batch: list[_Task] | None = None  # handed to this task's thread to run
    outcome: GroupOutcome | None = None
    error: BaseException | None = None


class GroupMerger:
    """Process-wide: `run` blocks until the caller's own outcome is there."""

    def __init__(self, execute: Execute, on_run: OnRun | None = None) -> None:
        self._execute = execute
        self._on_run = on_run
        self._lock = threading.Lock()
        self._waiting: dict[tuple[str, str], list[_Task]] = {}  # key present: a run is on

    def run(
        self,
        spec: ModelSpec,
        params: GenerationParams,
        prompts: list[Prompt],
        prefetch: list[ModelSpec] | None = None,
    ) -> GroupOutcome:
        key = (spec.model_dump_json(), params.model_dump_json())
        task = _Task(spec, params, prompts, list(prefetch or []))
        with self._lock:
            if key in self._waiting:
                self._waiting[key].append(task)
                batch = None
            else:
                self._waiting[key] = []
                batch = [task]
        if batch is None:
            task.wake.wait()  # answered by another run, or handed the next run
            batch = task.batch
        if batch is not None:
            try:
                self._run_batch(batch)
            finally:
                self._hand_on(key)
        if task.error is not None:
            raise task.error
        assert task.outcome is not None
        return task.outcome

    def _run_batch(self, batch: list[_Task]) -> None:
        first = batch[0]
        prefetch = list({s.model_dump_json(): s for t in batch for s in t.prefetch}.values())
        try:
            outcome = self._execute(
                first.spec, first.params, [p for t in batch for p in t.prompts], prefetch
            )
        except BaseException as exc:  # every task of this run fails alike
            for t in batch:
                t.error = exc
        else:
            for t, piece in zip(batch, split_outcome(outcome, batch), strict=True):
                t.outcome = piece
        finally:
            if self._on_run is not None:
                self._on_run(len(batch))
            for t in batch[1:]:
                t.wake.set()

    def _hand_on(self, key: tuple[str, str]) -> None:
        """The run of `key` ended: hand what gathered behind it to the first waiter's thread,
        or forget the key (no unbounded growth)."""
        with self._lock:
            waiting = self._waiting[key]
            if not waiting:
                del self._waiting[key]
                return
            self._waiting[key] = []
        waiting[0].batch = waiting
        waiting[0].wake.set()


def split_outcome(outcome: GroupOutcome, batch: list[_Task]) -> list[GroupOutcome]:
    """Cut a merged outcome back along the tasks' prompt counts: the load reported to the
    first task only; the time and a whole-run error to all."""
    if len(batch) == 1:
        return [outcome]
    pieces: list[GroupOutcome] = []
    offset = 0
    for i, t in enumerate(batch):
        end = offset + len(t.prompts)
        pieces.append(
            outcome.model_copy(
                update={
                    "completions": outcome.completions[offset:end],
                    "item_errors": outcome.item_errors[offset:end],  # empty stays empty
                    "loaded": outcome.loaded and i == 0,
                    "load_seconds": outcome.load_seconds if i == 0 else 0.0,
                }
            )
        )
        offset = end
    return pieces
