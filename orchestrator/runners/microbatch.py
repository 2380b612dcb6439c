"""Online micro-batching, continuous (as vLLM's scheduler and Triton's dynamic batcher do):
groups for the same (stage, expert, sampling) from concurrent requests are merged before
they reach the inner runner, so N concurrent queries cost far fewer than N model calls.

Per key: when nothing of that key is in flight, a group is sent at once (an idle server adds
no wait). Groups that arrive while one is in flight gather into the next group, which is sent
as soon as the one in flight finishes, when it reaches `max_group` requests, or when its first
member has waited `window_s` (the maximum wait, which only applies under load, and only
over a runner that runs groups side by side, such as Celery workers: over the in-process
runner, which runs one group at a time, a group sent early would only queue behind the
other instead of joining it).

Each caller still gets back exactly its own group's result: a merged result is cut back along
the callers' request counts. A model load is reported once, to the first caller.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from orchestrator.runners.base import GroupTextSink, Runner
from orchestrator.scheduler import Group, GroupResult
from workers.types import ModelSpec, TextSink

BucketKey = tuple[str, str, str]


@dataclass
class MicroBatchStats:
    groups_in: int = 0  # groups the callers handed in
    groups_sent: int = 0  # merged groups the inner runner ran
    sent_idle: int = 0  # ... at once, nothing of their key in flight
    sent_after_flight: int = 0  # ... when the group in flight before them finished
    sent_full: int = 0  # ... on reaching max_group
    sent_after_wait: int = 0  # ... after the maximum wait, with a group still in flight

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class _Part:
    group: Group
    future: Future[GroupResult]
    on_text: TextSink | None  # this caller's stream for this group, if it wants one


@dataclass
class _Bucket:
    key: BucketKey
    parts: list[_Part] = field(default_factory=list)
    size: int = 0
    timer: threading.Timer | None = None  # the maximum wait, started under load


@dataclass
class _KeyState:
    in_flight: int = 0
    pending: _Bucket | None = None


class MicroBatchingRunner(Runner):
    name = "microbatch"

    def __init__(self, inner: Runner, window_s: float = 0.02, max_group: int = 256) -> None:
        if window_s < 0:
            raise ValueError("window_s must be >= 0")
        self.inner = inner
        self.streams = inner.streams
        self.side_by_side = inner.side_by_side
        self.window_s = window_s
        self.max_group = max_group
        self.stats = MicroBatchStats()
        self._keys: dict[BucketKey, _KeyState] = {}
        self._lock = threading.Lock()
        # sends the groups that were waiting for one in flight (its caller must not wait)
        self._senders = ThreadPoolExecutor(16, thread_name_prefix="symoe-microbatch")

    def run_groups(
        self, groups: list[Group], on_text: GroupTextSink | None = None
    ) -> list[GroupResult]:
        futures: list[Future[GroupResult]] = []
        ready: list[_Bucket] = []
        for i, group in enumerate(groups):
            future, bucket = self._submit(group, partial(on_text, i) if on_text else None)
            futures.append(future)
            if bucket is not None:
                ready.append(bucket)
        if ready:  # this caller's idle experts: sent together from this thread
            self._send(ready)
        return [f.result() for f in futures]

    def _submit(
        self, group: Group, on_text: TextSink | None
    ) -> tuple[Future[GroupResult], _Bucket | None]:
        """The caller's future, and the bucket to send now (None: it waits for its key)."""
        key = (group.stage, group.spec.model_dump_json(), group.params.model_dump_json())
        future: Future[GroupResult] = Future()
        with self._lock:
            self.stats.groups_in += 1
            state = self._keys.setdefault(key, _KeyState())
            bucket = state.pending
            if bucket is None:
                bucket = state.pending = _Bucket(key)
                if state.in_flight and self.window_s > 0 and self.inner.side_by_side:
                    bucket.timer = threading.Timer(self.window_s, self._send_waited, [bucket])
                    bucket.timer.daemon = True
                    bucket.timer.start()
            bucket.parts.append(_Part(group, future, on_text))
            bucket.size += len(group.requests)
            if not state.in_flight:
                self.stats.sent_idle += 1
            elif bucket.size >= self.max_group:
                self.stats.sent_full += 1
            else:
                return future, None
            self._take(state)
        return future, bucket

    def _take(self, state: _KeyState) -> None:
        """Move the key's pending bucket in flight (under the lock)."""
        if state.pending is not None and state.pending.timer is not None:
            state.pending.timer.cancel()
        state.pending = None
        state.in_flight += 1
        self.stats.groups_sent += 1

    def _send_waited(self, bucket: _Bucket) -> None:
        with self._lock:
            state = self._keys.get(bucket.key)
            if state is None or state.pending is not bucket:  # sent already
                return
            self.stats.sent_after_wait += 1
            self._take(state)
        self._send([bucket])

    def _send(self, buckets: list[_Bucket]) -> None:
        """Run the merged groups in one inner call, answer their callers, then send what
        gathered behind them."""
        try:
            self._run(buckets)
        finally:
            following: list[_Bucket] = []
            with self._lock:
                for bucket in buckets:
                    state = self._keys[bucket.key]
                    state.in_flight -= 1
                    waiting = state.pending
                    if waiting is not None and not state.in_flight:
                        self.stats.sent_after_flight += 1
                        self._take(state)
                        following.append(waiting)
                    elif waiting is None and not state.in_flight:
                        del self._keys[bucket.key]  # forget idle keys: no unbounded growth
            if following:
                try:
                    self._senders.submit(self._send, following)
                except RuntimeError as exc:  # closed: nothing will run them
                    for part in (p for b in following for p in b.parts):
                        part.future.set_exception(exc)

    def _run(self, buckets: list[_Bucket]) -> None:
        merged = [_merge(b) for b in buckets]
        try:
            results = self.inner.run_groups(merged, _route_text(buckets))
        except Exception as exc:  # a runner reports failures; this guards the callers anyway
            for bucket in buckets:
                for part in bucket.parts:
                    part.future.set_exception(exc)
            return
        for bucket, result in zip(buckets, results, strict=True):
            for part, piece in zip(bucket.parts, split_result(result, bucket), strict=True):
                assert piece.expert == part.group.spec.name
                part.future.set_result(piece)

    def cancel(self) -> None:
        self.inner.cancel()

    def close(self) -> None:
        self._senders.shutdown(wait=False)
        self.inner.close()

    def check(self, experts: Sequence[ModelSpec]) -> dict[str, str]:
        return self.inner.check(experts)


def _merge(bucket: _Bucket) -> Group:
    first = bucket.parts[0].group
    return Group(
        stage=first.stage,
        spec=first.spec,
        params=first.params,
        requests=[r for part in bucket.parts for r in part.group.requests],
    )


def split_result(result: GroupResult, bucket: _Bucket) -> list[GroupResult]:
    """Cut a merged result back into one result per original group."""
    parts: list[GroupResult] = []
    offset = 0
    errors = result.item_errors or [None] * len(result.completions)
    for i, part in enumerate(bucket.parts):
        n = len(part.group.requests)
        parts.append(
            result.model_copy(
                update={
                    "completions": result.completions[offset : offset + n],
                    "item_errors": errors[offset : offset + n],
                    "loaded": result.loaded and i == 0,
                    "load_seconds": result.load_seconds if i == 0 else 0.0,
                }
            )
        )
        offset += n
    return parts


def _route_text(buckets: list[_Bucket]) -> GroupTextSink | None:
    """The merged groups' streams, each piece sent on to the caller its request came from."""
    if not any(part.on_text for bucket in buckets for part in bucket.parts):
        return None
    owners: list[list[tuple[TextSink | None, int]]] = [
        [(part.on_text, i) for part in bucket.parts for i in range(len(part.group.requests))]
        for bucket in buckets
    ]

    def route(group: int, index: int, text: str) -> None:
        sink, local = owners[group][index]
        if sink is not None:
            sink(local, text)

    return route
