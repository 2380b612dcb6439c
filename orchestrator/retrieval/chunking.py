"""Chunking by tokens with overlap, with all-MiniLM-L6-v2's own tokenizer (the model that
embeds the chunks), so a chunk's token count is what the embedder sees. Each chunk is the
exact span of the original text between its first token's start and its last token's end
(the tokenizer's character offsets), never a detokenised copy."""

from __future__ import annotations

import threading
from pathlib import Path

from tokenizers import Tokenizer

from orchestrator.retrieval.types import ChunkText
from skills.embeddings import load_tokenizer

DEFAULT_CHUNK_TOKENS = 200
DEFAULT_CHUNK_OVERLAP = 40
# The embedder reads 256 tokens, [CLS] and [SEP] included; a span re-tokenised on its own can
# split its edge words into a few more pieces than the window counted, so keep a margin.
MAX_CHUNK_TOKENS = 250


class Chunker:
    """Windows of `chunk_tokens` tokens; each starts `chunk_tokens - overlap` tokens after the
    one before, and the last ends at the text's last token. The tokenizer loads on first use."""

    def __init__(
        self,
        chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
        overlap: int = DEFAULT_CHUNK_OVERLAP,
        model_dir: Path | None = None,
    ) -> None:
        if not 1 <= chunk_tokens <= MAX_CHUNK_TOKENS:
            raise ValueError(f"chunk size must be 1..{MAX_CHUNK_TOKENS} tokens, not {chunk_tokens}")
        if not 0 <= overlap < chunk_tokens:
            raise ValueError(
                f"chunk overlap must be at least 0 and below the chunk size ({chunk_tokens}), "
                f"not {overlap}"
            )
        self.chunk_tokens = chunk_tokens
        self.overlap = overlap
        self._model_dir = model_dir
        self._tokenizer: Tokenizer | None = None
        self._lock = threading.Lock()

    @property
    def settings_key(self) -> str:
        """What decides where chunks are cut: part of a document's stored hash, so a change
        of settings re-chunks a document whose text did not change."""
        return f"chunk:{self.chunk_tokens}/{self.overlap}"

    def _load(self) -> Tokenizer:
        with self._lock:
            if self._tokenizer is None:
                tokenizer = load_tokenizer(self._model_dir)
                # tokenizer.json truncates and pads to 128: chunking needs every token, unpadded.
                tokenizer.no_truncation()
                tokenizer.no_padding()
                self._tokenizer = tokenizer
            return self._tokenizer

    def split(self, text: str) -> list[ChunkText]:
        """The text's chunks in order; none for a text without tokens (blank)."""
        offsets = self._load().encode(text, add_special_tokens=False).offsets
        chunks: list[ChunkText] = []
        step = self.chunk_tokens - self.overlap
        start = 0
        while start < len(offsets):
            end = min(start + self.chunk_tokens, len(offsets))
            first, last = offsets[start][0], offsets[end - 1][1]
            span = ChunkText(text=text[first:last], tokens=end - start, start=first, end=last)
            chunks.append(span)
            if end == len(offsets):
                break
            start += step
        return chunks
