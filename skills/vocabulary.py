"""The canonical skill vocabulary and nearest-skill mapping.

A tagger emits free-form keywords ("integration by parts"); profiles are keyed by a fixed
vocabulary ("calculus"). Each keyword maps to its nearest canonical skill by cosine similarity
of MiniLM embeddings, or to nothing when even the nearest one is below a floor, so that an
off-topic keyword does not land on some arbitrary skill's profile.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from skills.embeddings import Array, Embedder

# Measured with all-MiniLM-L6-v2 against skills.txt, similarity to the nearest skill.
# Keywords: 118 on-topic tagger-style keywords spread 0.33-0.92 ("integration" -> calculus
# 0.56, "DNA replication" -> molecular biology 0.43, "hearsay" -> evidence law 0.45). Below
# 0.40 the nearest skill was wrong for 4 of 8 ("search and seizure" -> sensation and
# perception 0.36, "Kant" -> literature 0.33); in 0.40-0.45 it was right for 14 of 17
# ("opportunity cost" -> economics 0.42). Off-topic words: "banana bread recipe" 0.25,
# "banana" 0.36, "hello" 0.38, but "dog" 0.41 and "car" 0.47. At 0.40 we keep 93% of the
# on-topic keywords and drop 11 of 16 off-topic ones; 0.45 would drop 14 of 16 but lose 21%
# of the on-topic keywords.
DEFAULT_FLOOR = 0.40
# Whole questions sit further from any one-phrase skill: on 325 MMLU-Pro questions the top
# skill's similarity has median 0.36, and it lies in the question's own subject 60% of the
# time; below 0.25 (8% of questions) only 38%, so those are dropped.
QUESTION_FLOOR = 0.25


@dataclass(frozen=True)
class SkillMatch:
    keyword: str  # the keyword or text that was mapped ("" when given an embedding)
    skill: str | None  # None: the nearest skill is below the floor
    similarity: float  # cosine similarity to the nearest skill (1.0 for an exact match)


def load_default_skills() -> list[str]:
    """The packaged vocabulary, skills/data/skills.txt, without comments and blank lines."""
    text = resources.files("skills").joinpath("data/skills.txt").read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _normalise(keyword: str) -> str:
    return " ".join(keyword.split()).lower()


class SkillVocabulary:
    """Canonical skills with their embeddings, computed on first use and cached on disk."""

    def __init__(
        self,
        skills: Sequence[str],
        embedder: Embedder,
        floor: float = DEFAULT_FLOOR,
        cache_dir: Path | None = None,
    ) -> None:
        self.skills = list(dict.fromkeys(_normalise(s) for s in skills if s.strip()))
        if not self.skills:
            raise ValueError("the skill vocabulary is empty")
        self.floor = floor
        self._embedder = embedder
        self._cache_dir = cache_dir
        self._index = {s: i for i, s in enumerate(self.skills)}
        self._matrix: Array | None = None

    @property
    def cache_path(self) -> Path | None:
        """Keyed by the skill list and the embedder type: a changed list recomputes."""
        if self._cache_dir is None:
            return None
        key = type(self._embedder).__qualname__ + "\n" + "\n".join(self.skills)
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return self._cache_dir / f"skill-embeddings-{digest}.npy"

    def embeddings(self) -> Array:
        if self._matrix is None:
            self._matrix = self._read_cache()
        if self._matrix is None:
            self._matrix = self._embedder.encode(self.skills).astype(np.float32, copy=False)
            self._write_cache(self._matrix)
        return self._matrix

    def map_keyword(self, keyword: str) -> SkillMatch:
        return self.map_keywords([keyword])[0]

    def map_keywords(self, keywords: Sequence[str]) -> list[SkillMatch]:
        """Exact (case-insensitive) matches first; the rest in one encode call."""
        out: dict[int, SkillMatch] = {}
        for i, keyword in enumerate(keywords):
            j = self._index.get(_normalise(keyword))
            if j is not None:
                out[i] = SkillMatch(keyword, self.skills[j], 1.0)
        rest = [i for i in range(len(keywords)) if i not in out]
        if rest:
            vectors = self._embedder.encode([_normalise(keywords[i]) for i in rest])
            for i, best in zip(rest, self._nearest(vectors, 1, self.floor), strict=True):
                out[i] = SkillMatch(keywords[i], best[0].skill, best[0].similarity)
        return [out[i] for i in range(len(keywords))]

    def nearest_skills(
        self, queries: Sequence[str] | Array, top_n: int = 3, floor: float = QUESTION_FLOOR
    ) -> list[list[SkillMatch]]:
        """The top_n nearest skills of each text (or precomputed embedding row), best first,
        dropping those below `floor`; a row may have fewer than top_n, or none."""
        if isinstance(queries, np.ndarray):
            vectors, names = queries, [""] * len(queries)
        else:
            vectors, names = self._embedder.encode(list(queries)), list(queries)
        ranked = self._nearest(vectors, top_n, floor)
        return [
            [SkillMatch(name, m.skill, m.similarity) for m in row if m.skill is not None]
            for name, row in zip(names, ranked, strict=True)
        ]

    def _nearest(self, vectors: Array, top_n: int, floor: float) -> list[list[SkillMatch]]:
        # Rows from the Embedder are unit length, so the dot product is the cosine.
        sims = vectors @ self.embeddings().T
        top_n = min(top_n, len(self.skills))
        order = np.argsort(-sims, axis=1, kind="stable")[:, :top_n]
        return [
            [
                SkillMatch("", self.skills[j] if sims[r, j] >= floor else None, float(sims[r, j]))
                for j in row
            ]
            for r, row in enumerate(order)
        ]

    def _read_cache(self) -> Array | None:
        path = self.cache_path
        if path is None or not path.is_file():
            return None
        try:
            matrix = np.load(path)
        except (OSError, ValueError):
            return None  # unreadable: recompute and overwrite
        if matrix.dtype != np.float32 or matrix.ndim != 2 or len(matrix) != len(self.skills):
            return None
        result: Array = matrix
        return result

    def _write_cache(self, matrix: Array) -> None:
        path = self.cache_path
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.save(f, matrix)
        os.replace(tmp, path)
