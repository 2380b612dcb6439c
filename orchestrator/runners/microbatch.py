"""Online micro-batching: groups for the same (stage, expert, sampling) that arrive from
concurrent requests within a short window are merged into one group before they reach the
inner runner, so N concurrent queries cost far fewer than N model calls (and loads).

Each caller still gets back exactly its own group's result: the merged result is cut back
along the callers' request counts. A model load is reported once, to the first caller.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future
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

    def as_dict(self) -> dict[str, int]:
        return {"groups_in": self.groups_in, "groups_sent": self.groups_sent}


@dataclass
class _Part:
    group: Group
    future: Future[GroupResult]
    on_text: TextSink | None  # this caller's stream for this group, if it wants one


@dataclass
class _Bucket:
    parts: list[_Part] = field(default_factory=list)
    size: int = 0


class MicroBatchingRunner(Runner):
    name = "microbatch"

    def __init__(self, inner: Runner, window_s: float = 0.02, max_group: int = 256) -> None:
        if window_s < 0:
            raise ValueError("window_s must be >= 0")
        self.inner = inner
        self.streams = inner.streams
        self.window_s = window_s
        self.max_group = max_group
        self.stats = MicroBatchStats()
        self._buckets: dict[BucketKey, _Bucket] = {}
        self._lock = threading.Lock()

    def run_groups(
        self, groups: list[Group], on_text: GroupTextSink | None = None
    ) -> list[GroupResult]:
        futures = [
            self._submit(g, partial(on_text, i) if on_text else None) for i, g in enumerate(groups)
        ]
        return [f.result() for f in futures]

    def _submit(self, group: Group, on_text: TextSink | None) -> Future[GroupResult]:
        key = (group.stage, group.spec.model_dump_json(), group.params.model_dump_json())
        future: Future[GroupResult] = Future()
        full: _Bucket | None = None
        with self._lock:
            self.stats.groups_in += 1
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket()
                timer = threading.Timer(self.window_s, self._flush_key, args=(key, bucket))
                timer.daemon = True
                timer.start()
            bucket.parts.append(_Part(group, future, on_text))
            bucket.size += len(group.requests)
            if bucket.size >= self.max_group:  # big enough: do not wait for the window
                full = self._buckets.pop(key)
        if full is not None:
            self._flush(full)
        return future

    def _flush_key(self, key: BucketKey, bucket: _Bucket) -> None:
        with self._lock:
            if self._buckets.get(key) is not bucket:  # already flushed because it was full
                return
            del self._buckets[key]
        self._flush(bucket)

    def _flush(self, bucket: _Bucket) -> None:
        first = bucket.parts[0].group
        merged = Group(
            stage=first.stage,
            spec=first.spec,
            params=first.params,
            requests=[r for part in bucket.parts for r in part.group.requests],
        )
        with self._lock:
            self.stats.groups_sent += 1
        try:
            result = self.inner.run_groups([merged], _route_text(bucket))
        except Exception as exc:  # a runner reports failures; this guards the callers anyway
            for part in bucket.parts:
                part.future.set_exception(exc)
            return
        for part, piece in zip(bucket.parts, split_result(result[0], bucket), strict=True):
            assert piece.expert == part.group.spec.name
            part.future.set_result(piece)

    def cancel(self) -> None:
        self.inner.cancel()

    def close(self) -> None:
        self.inner.close()

    def check(self, experts: Sequence[ModelSpec]) -> dict[str, str]:
        return self.inner.check(experts)


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


def _route_text(bucket: _Bucket) -> GroupTextSink | None:
    """The merged group's stream, sent on to the caller each request came from."""
    if not any(part.on_text for part in bucket.parts):
        return None
    owners: list[tuple[TextSink | None, int]] = [
        (part.on_text, i) for part in bucket.parts for i in range(len(part.group.requests))
    ]

    def route(_group: int, index: int, text: str) -> None:
        sink, local = owners[index]
        if sink is not None:
            sink(local, text)

    return route
