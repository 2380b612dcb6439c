"""A small real corpus for retriever tests: the paragraphs of the first HotpotQA questions of
../shared/data/rag/hotpotqa/rpt_dev.jsonl (two gold paragraphs and eight distractors each),
embedded once per test process with the bundled MiniLM, behind an in-memory `ChunkSource`
that counts what it is asked for."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from orchestrator.retrieval.types import Chunk
from orchestrator.settings import Settings
from skills.embeddings import MiniLMEmbedder
from tests.minilm import minilm_or_skip

QUESTIONS = 12  # 120 paragraphs: embedding them takes seconds, not minutes

# Questions nothing in the HotpotQA paragraphs answers.
UNRELATED = [
    "how long should spaghetti be boiled?",
    "what temperature do you bake sourdough bread at?",
    "how much salt goes in pasta water?",
    "how do I descale a kettle with vinegar?",
    "what is the best way to store fresh basil?",
    "how many minutes does a soft boiled egg take?",
    "can you freeze cooked rice safely?",
    "why does bread dough need to rest?",
    "what oil is best for frying potatoes?",
    "how do you keep avocados from browning?",
    "how long does homemade soup keep in the fridge?",
    "what makes a pancake fluffy?",
]


@dataclass(frozen=True)
class Question:
    question: str
    gold_titles: frozenset[str]


@dataclass(frozen=True)
class Corpus:
    paragraphs: dict[str, str]  # title -> text, in file order
    questions: list[Question]
    embeddings: dict[str, npt.NDArray[np.float32]]  # title -> MiniLM vector
    embedder: MiniLMEmbedder


def hotpot_file() -> Path:
    path = Settings().shared_data_dir / "rag" / "hotpotqa" / "rpt_dev.jsonl"
    if not path.is_file():
        pytest.skip(f"HotpotQA is not in the shared data ({path})")
    return path


@lru_cache(maxsize=1)
def _corpus(path: Path) -> Corpus:
    embedder = minilm_or_skip()
    paragraphs: dict[str, str] = {}
    questions = []
    with path.open() as lines:
        for _, line in zip(range(QUESTIONS), lines, strict=False):
            row = json.loads(line)
            context = row["context"]
            for title, sentences in zip(context["title"], context["sentences"], strict=True):
                paragraphs.setdefault(title, "".join(sentences))
            gold = frozenset(row["supporting_facts"]["title"])
            questions.append(Question(row["question"], gold))
    vectors = embedder.encode(list(paragraphs.values()))
    embeddings = dict(zip(paragraphs, vectors, strict=True))
    return Corpus(paragraphs, questions, embeddings, embedder)


def hotpot_corpus() -> Corpus:
    return _corpus(hotpot_file())


class MemorySource:
    """A `ChunkSource` in memory, one chunk per paragraph (the title is its source). It
    counts every call and every id whose text or embedding it hands out."""

    def __init__(self, corpus: Corpus) -> None:
        self._corpus = corpus
        self._chunks: dict[int, Chunk] = {}
        self._vectors: dict[int, npt.NDArray[np.float32]] = {}
        self._next_id = 1
        self.calls: Counter[str] = Counter()
        self.texts_fetched: list[int] = []
        self.embeddings_fetched: list[int] = []

    def add(self, title: str, text: str | None = None) -> int:
        """Stores a paragraph of the corpus (or `text` under `title`, embedded now)."""
        chunk_id, self._next_id = self._next_id, self._next_id + 1
        if text is None:
            text, vector = self._corpus.paragraphs[title], self._corpus.embeddings[title]
        else:
            vector = self._corpus.embedder.encode([text])[0]
        self._chunks[chunk_id] = Chunk(
            id=chunk_id,
            document_id=chunk_id,
            source=title,
            position=0,
            text=text,
            tokens=len(text.split()),
        )
        self._vectors[chunk_id] = vector
        return chunk_id

    def remove(self, chunk_id: int) -> None:
        del self._chunks[chunk_id], self._vectors[chunk_id]

    def id_of(self, title: str) -> int:
        return next(c.id for c in self._chunks.values() if c.source == title)

    def reset_counts(self) -> None:
        self.calls.clear()
        self.texts_fetched.clear()
        self.embeddings_fetched.clear()

    # ChunkSource
    def revision(self) -> tuple[int, int]:
        self.calls["revision"] += 1
        return (max(self._chunks, default=0), len(self._chunks))

    def chunk_ids(self) -> set[int]:
        self.calls["chunk_ids"] += 1
        return set(self._chunks)

    def chunks(self, ids: Iterable[int]) -> list[Chunk]:
        self.calls["chunks"] += 1
        found = [self._chunks[i] for i in ids if i in self._chunks]
        self.texts_fetched.extend(c.id for c in found)
        return found

    def embeddings(self, ids: list[int]) -> npt.NDArray[np.float32]:
        self.calls["embeddings"] += 1
        self.embeddings_fetched.extend(ids)
        return np.stack([self._vectors[i] for i in ids]).astype(np.float32)


def full_source(corpus: Corpus) -> MemorySource:
    source = MemorySource(corpus)
    for title in corpus.paragraphs:
        source.add(title)
    return source
