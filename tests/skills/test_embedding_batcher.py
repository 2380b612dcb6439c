"""BatchingEmbedder: continuous batching of concurrent encode calls, and its LRU cache."""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable

import numpy as np
import pytest

from skills.embedding_batcher import BatchingEmbedder
from skills.embeddings import Array, Embedder, MiniLMEmbedder
from tests.minilm import minilm_or_skip

DIM = 8


def vector(text: str) -> Array:
    """A deterministic unit vector per text."""
    rng = np.random.default_rng(zlib.crc32(text.encode()))
    v = rng.standard_normal(DIM).astype(np.float32)
    out: Array = v / np.linalg.norm(v)
    return out


class Recording:
    """Records every inner call; the first call blocks on `gate` when one is given."""

    def __init__(self, inner: Callable[[list[str]], Array] | None = None) -> None:
        self.inner = inner or (lambda texts: np.array([vector(t) for t in texts]).reshape(-1, DIM))
        self.calls: list[list[str]] = []
        self.threads: list[int] = []
        self.gate: threading.Event | None = None
        self.entered = threading.Event()
        self.error: Exception | None = None

    def encode(self, texts: list[str]) -> Array:
        self.calls.append(list(texts))
        self.threads.append(threading.get_ident())
        self.entered.set()
        gate, self.gate = self.gate, None
        if gate is not None:
            assert gate.wait(10)
        if self.error is not None:
            raise self.error
        return self.inner(texts)


def in_threads(batcher: BatchingEmbedder, inputs: list[list[str]]) -> list[Array | Exception]:
    """Each input encoded by its own thread; the thread's result or exception."""
    out: list[Array | Exception] = [RuntimeError("not run")] * len(inputs)

    def work(i: int) -> None:
        try:
            out[i] = batcher.encode(inputs[i])
        except Exception as exc:
            out[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return out


def wait_queued(batcher: BatchingEmbedder, texts: int) -> None:
    """Until `texts` distinct texts wait behind the in-flight batch (test-only polling)."""
    deadline = time.monotonic() + 10
    while sum(len(b.texts) for b in batcher._queue) < texts:
        assert time.monotonic() < deadline, "callers never queued"
        time.sleep(0.001)


def with_one_in_flight(
    inner: Recording,
    batcher: BatchingEmbedder,
    queued: list[list[str]],
    distinct: int,
    fail: Exception | None = None,
) -> tuple[Array | Exception, list[Array | Exception]]:
    """A caller encodes "first" and blocks inside the inner call while the `queued` callers
    arrive; then the inner embedder starts failing with `fail`, if given, and the blocked call
    is let go. Returns the first caller's result and the queued ones', each or its exception."""
    inner.gate, inner.entered = threading.Event(), threading.Event()
    gate = inner.gate
    first: list[Array | Exception] = []
    t = threading.Thread(target=lambda: first.extend(in_threads(batcher, [["first"]])))
    t.start()
    assert inner.entered.wait(10)
    results: list[Array | Exception] = []
    waiting = threading.Thread(target=lambda: results.extend(in_threads(batcher, queued)))
    waiting.start()
    wait_queued(batcher, distinct)
    inner.error = fail
    gate.set()
    t.join(10)
    waiting.join(10)
    return first[0], results


def test_idle_call_runs_at_once_in_the_callers_thread() -> None:
    inner = Recording()
    batcher = BatchingEmbedder(inner)
    threads_before = threading.active_count()
    out = batcher.encode(["a", "b"])
    assert inner.calls == [["a", "b"]]
    assert inner.threads == [threading.get_ident()]
    np.testing.assert_array_equal(out, np.stack([vector("a"), vector("b")]))
    assert threading.active_count() == threads_before  # no thread of its own
    assert not batcher._busy and not batcher._queue


def test_callers_arriving_in_flight_are_merged_into_the_next_call() -> None:
    inner = Recording()
    batcher = BatchingEmbedder(inner)
    queued = [[f"question {i}"] for i in range(12)] + [["x", "y", "x"]]
    first, results = with_one_in_flight(inner, batcher, queued, distinct=14)
    assert len(inner.calls) == 2
    assert inner.calls[0] == ["first"]
    assert sorted(inner.calls[1]) == sorted({t for texts in queued for t in texts})
    assert len(inner.calls[1]) == 14
    assert isinstance(first, np.ndarray)
    np.testing.assert_array_equal(first, vector("first")[None])
    for texts, got in zip(queued, results, strict=True):
        assert isinstance(got, np.ndarray)
        assert got.shape == (len(texts), DIM)
        for row, text in zip(got, texts, strict=True):  # each caller's own rows, in order
            np.testing.assert_array_equal(row, Recording().encode([text])[0])
    assert not batcher._busy and not batcher._queue


def test_max_batch_splits_the_waiting_callers_into_successive_calls() -> None:
    inner = Recording()
    batcher = BatchingEmbedder(inner, max_batch=4)
    queued = [[f"q{i}"] for i in range(6)]
    _, results = with_one_in_flight(inner, batcher, queued, distinct=6)
    assert [len(c) for c in inner.calls] == [1, 4, 2]
    for texts, got in zip(queued, results, strict=True):
        assert isinstance(got, np.ndarray)
        np.testing.assert_array_equal(got, vector(texts[0])[None])


def test_a_call_larger_than_max_batch_runs_whole() -> None:
    inner = Recording()
    texts = [f"t{i}" for i in range(10)]
    out = BatchingEmbedder(inner, max_batch=4).encode(texts)
    assert inner.calls == [texts]
    assert out.shape == (10, DIM)


def test_duplicates_are_encoded_once() -> None:
    inner = Recording()
    batcher = BatchingEmbedder(inner)
    out = batcher.encode(["a", "b", "a"])
    assert inner.calls == [["a", "b"]]
    np.testing.assert_array_equal(out[0], out[2])
    # the same text from several waiting callers: once in the merged call
    inner.calls.clear()
    _, results = with_one_in_flight(inner, batcher, [["same"]] * 5 + [["other"]], distinct=2)
    assert inner.calls[1:] == [["same", "other"]] or inner.calls[1:] == [["other", "same"]]
    assert all(isinstance(r, np.ndarray) for r in results)


def test_an_inner_error_reaches_every_caller_of_the_batch_and_the_next_call_works() -> None:
    inner = Recording()
    batcher = BatchingEmbedder(inner)
    inner.error = ValueError("model broke")
    with pytest.raises(ValueError, match="model broke"):  # the idle caller, who ran it
        batcher.encode(["a"])
    inner.error = None
    queued = [[f"q{i}"] for i in range(5)]
    first, results = with_one_in_flight(inner, batcher, queued, 5, fail=ValueError("broke"))
    assert isinstance(first, ValueError)  # the in-flight caller got its own call's error
    assert len(results) == 5
    assert all(isinstance(r, ValueError) and str(r) == "broke" for r in results)
    assert len(inner.calls) == 3  # nothing was retried
    inner.error = None
    np.testing.assert_array_equal(batcher.encode(["q0"]), vector("q0")[None])
    assert not batcher._busy and not batcher._queue


def test_lru_hit_skips_the_inner_embedder() -> None:
    inner = Recording()
    batcher = BatchingEmbedder(inner, cache_size=2)
    batcher.encode(["a", "b"])
    out = batcher.encode(["b", "a", "b"])
    assert inner.calls == [["a", "b"]]
    np.testing.assert_array_equal(out, np.stack([vector("b"), vector("a"), vector("b")]))
    out[:] = 0  # callers get their own copy
    batcher.encode(["a", "c"])  # a was used last: c evicts b
    assert inner.calls[-1] == ["c"]
    batcher.encode(["a", "c"])
    batcher.encode(["b"])
    assert inner.calls == [["a", "b"], ["c"], ["b"]]
    np.testing.assert_array_equal(batcher.encode(["c"]), vector("c")[None])


def test_empty_input_goes_to_the_inner_embedder() -> None:
    inner = Recording()
    assert BatchingEmbedder(inner).encode([]).shape == (0, DIM)


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return minilm_or_skip()


@pytest.mark.embeddings
def test_real_minilm_batched_vectors_equal_one_at_a_time(minilm: MiniLMEmbedder) -> None:
    questions = [
        "What is the derivative of x squared?",
        "Which river flows through Paris?",
        "Explain the difference between mitosis and meiosis in eukaryotic cells.",
        "Is a contract signed under duress enforceable?",
        "2 + 2",
        "Who wrote the novel War and Peace, and in which century was it published?",
    ]
    alone = np.concatenate([minilm.encode([q]) for q in questions])
    inner = Recording(minilm.encode)
    embedder: Embedder = BatchingEmbedder(inner)
    assert isinstance(embedder, BatchingEmbedder)
    first, results = with_one_in_flight(
        inner, embedder, [[q] for q in questions], distinct=len(questions)
    )
    assert [len(c) for c in inner.calls] == [1, len(questions)]
    assert isinstance(first, np.ndarray)
    np.testing.assert_allclose(first, minilm.encode(["first"]), atol=1e-5)
    for i, got in enumerate(results):
        assert isinstance(got, np.ndarray)
        np.testing.assert_allclose(got[0], alone[i], atol=1e-5)
