"""The bundled all-MiniLM-L6-v2, or a skip when its weights are not installed."""

from __future__ import annotations

import pytest

from skills.embeddings import EmbeddingModelMissing, MiniLMEmbedder, default_model_dir


def minilm_or_skip() -> MiniLMEmbedder:
    try:
        model_dir = default_model_dir()
    except EmbeddingModelMissing as exc:
        pytest.skip(str(exc))
    if not (model_dir / "model.safetensors").is_file():
        pytest.skip("all-MiniLM-L6-v2 weights are not installed")
    return MiniLMEmbedder(model_dir)
