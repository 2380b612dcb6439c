"""Chunking by all-MiniLM-L6-v2 tokens with overlap: exact spans of the original text."""

from __future__ import annotations

import itertools

import pytest

from orchestrator.retrieval.chunking import MAX_CHUNK_TOKENS, Chunker
from skills.embeddings import load_tokenizer
from tests.minilm import minilm_or_skip

pytestmark = pytest.mark.embeddings


@pytest.fixture(scope="module")
def model_ready() -> None:
    minilm_or_skip()


def count_tokens(text: str) -> int:
    tokenizer = load_tokenizer()
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return len(tokenizer.encode(text, add_special_tokens=False).ids)


TEXT = " ".join(
    f"Sentence {i}: the naïve café on Rue n°{i} serves crème brûlée, 東京 style." for i in range(60)
)


def test_windows_overlap_and_slice_the_original_text(model_ready: None) -> None:
    chunks = Chunker(chunk_tokens=50, overlap=10).split(TEXT)
    total = count_tokens(TEXT)
    assert len(chunks) > 3
    assert all(c.text == TEXT[c.start : c.end] for c in chunks)  # exact spans, accents kept
    assert all(c.tokens == 50 for c in chunks[:-1]) and 0 < chunks[-1].tokens <= 50
    assert chunks[0].start == 0 and chunks[-1].end == len(TEXT)
    # each window starts 40 tokens after the one before, so consecutive chunks share text
    assert all(b.start < a.end for a, b in itertools.pairwise(chunks))
    assert 40 * (len(chunks) - 1) + chunks[-1].tokens == total
    # a chunk re-tokenised alone stays within the embedder's window
    assert all(count_tokens(c.text) <= MAX_CHUNK_TOKENS for c in chunks)


def test_short_blank_and_no_overlap_texts(model_ready: None) -> None:
    chunker = Chunker()  # defaults: 200 tokens, 40 overlap
    (only,) = chunker.split("  Paris is the capital of France.\n")
    assert only.text == "Paris is the capital of France." and only.tokens == 7
    assert chunker.split("") == [] and chunker.split(" \n\t ") == []
    disjoint = Chunker(chunk_tokens=5, overlap=0).split("one two three four five six seven")
    assert [c.text for c in disjoint] == ["one two three four five", "six seven"]


@pytest.mark.parametrize(
    ("size", "overlap", "message"),
    [(0, 0, "chunk size"), (251, 0, "chunk size"), (10, 10, "overlap"), (10, -1, "overlap")],
)
def test_bad_sizes_are_refused(size: int, overlap: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Chunker(chunk_tokens=size, overlap=overlap)
