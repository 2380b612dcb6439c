from __future__ import annotations

from pathlib import Path

import numpy as np

from skills.embedding_cache import CachedEmbedder


class CountingEmbedder:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        return np.array([[len(t), t.count("a"), 1.0] for t in texts], dtype=np.float32)


def test_each_text_is_embedded_once_across_calls_and_instances(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    first = cached.encode(["banana", "apple", "banana"])
    assert inner.seen == ["banana", "apple"]
    again = CachedEmbedder(inner, tmp_path).encode(["apple", "kiwi", "banana"])
    assert inner.seen == ["banana", "apple", "kiwi"]
    np.testing.assert_array_equal(first[0], again[2])
    np.testing.assert_array_equal(again[1], [4, 0, 1])
