"""Online micro-batching: groups for the same (stage, expert, sampling) that arrive from
concurrent requests within a short window are merged into one group before they reach the
inner runner, so N concurrent queries cost far fewer than N model calls (and loads).

Each caller still gets back exactly its own group's result: the merged result is cut back
along the callers' request counts. A model load is reported once, to the first caller.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

from orchestrator.runners.base import Runner
from orchestrator.scheduler import Group, GroupResult

BucketKey = tuple[str, str, str]


@dataclass
class MicroBatchStats:
    groups_in: int = 0  # groups the callers handed in
    groups_sent: int = 0  # merged groups the inner runner ran

    def as_dict(self) -> dict[str, int]:
        return {"groups_in": self.groups_in, "groups_sent": self.groups_sent}


@dataclass
class _Bucket:
    parts: list[tuple[Group, Future[GroupResult]]] = field(default_factory=list)
    size: int = 0


class MicroBatchingRunner(Runner):
    name = "microbatch"

    def __init__(self, inner: Runner, window_s: float = 0.02, max_group: int = 256) -> None:
        if window_s < 0:
            raise ValueError("window_s must be >= 0")
        self.inner = inner
        self.window_s = window_s
        self.max_group = max_group
        self.stats = MicroBatchStats()
        self._buckets: dict[BucketKey, _Bucket] = {}
        self._lock = threading.Lock()

    def run(self, groups: list[Group]) -> list[GroupResult]:
        futures = [self._submit(g) for g in groups]
        return [f.result() for f in futures]

    def _submit(self, group: Group) -> Future[GroupResult]:
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
            bucket.parts.append((group, future))
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
        first = bucket.parts[0][0]
        merged = Group(
            stage=first.stage,
            spec=first.spec,
            params=first.params,
            requests=[r for g, _ in bucket.parts for r in g.requests],
        )
        with self._lock:
            self.stats.groups_sent += 1
        try:
            result = self.inner.run([merged])[0]
        except Exception as exc:  # a runner reports failures; this guards the callers anyway
            for _, fut in bucket.parts:
                fut.set_exception(exc)
            return
        for (group, fut), part in zip(bucket.parts, split_result(result, bucket), strict=True):
            assert part.expert == group.spec.name
            fut.set_result(part)

    def close(self) -> None:
        self.inner.close()


def split_result(result: GroupResult, bucket: _Bucket) -> list[GroupResult]:
    """Cut a merged result back into one result per original group."""
    parts: list[GroupResult] = []
    offset = 0
    errors = result.item_errors or [None] * len(result.completions)
    for i, (group, _) in enumerate(bucket.parts):
        n = len(group.requests)
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
