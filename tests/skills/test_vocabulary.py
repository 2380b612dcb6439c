"""SkillVocabulary: exact matches, the floor, batching, the embedding cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skills.embeddings import Array, MiniLMEmbedder
from skills.vocabulary import DEFAULT_FLOOR, SkillVocabulary, load_default_skills
from tests.minilm import minilm_or_skip

SKILLS = ["calculus", "genetics", "history"]


def _unit(*xs: float) -> list[float]:
    v = np.array(xs, dtype=np.float64)
    return list(v / np.linalg.norm(v))


# The skills are the first three axes; keywords sit at chosen angles to them.
VECTORS: dict[str, list[float]] = {
    "calculus": [1.0, 0.0, 0.0, 0.0],
    "genetics": [0.0, 1.0, 0.0, 0.0],
    "history": [0.0, 0.0, 1.0, 0.0],
    "integration": _unit(0.8, 0.1, 0.0, 0.1),  # calculus, ~0.98
    "on the floor": [0.5, 0.0, 0.0, 0.75**0.5],  # calculus, exactly 0.5
    "banana": [0.3, 0.2, 0.1, (1 - 0.14) ** 0.5],  # calculus, 0.3
}


class HandMadeEmbedder:
    """Fixed vectors from VECTORS, recording every encode call."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str]) -> Array:
        self.calls.append(list(texts))
        return np.array([VECTORS[t] for t in texts], dtype=np.float32)


def _vocab(
    floor: float = 0.5, cache_dir: Path | None = None
) -> tuple[SkillVocabulary, HandMadeEmbedder]:
    embedder = HandMadeEmbedder()
    return SkillVocabulary(SKILLS, embedder, floor=floor, cache_dir=cache_dir), embedder


def test_exact_match_is_case_insensitive_and_needs_no_encoding() -> None:
    vocab, embedder = _vocab()
    match = vocab.map_keyword("  Calculus ")
    assert (match.keyword, match.skill, match.similarity) == ("  Calculus ", "calculus", 1.0)
    assert embedder.calls == []


def test_floor_is_respected() -> None:
    vocab, _ = _vocab(floor=0.5)
    integration, edge, banana = vocab.map_keywords(["integration", "on the floor", "banana"])
    assert integration.skill == "calculus"
    assert integration.similarity == pytest.approx(0.8 / np.sqrt(0.66), abs=1e-5)
    assert edge.skill == "calculus"  # similarity == floor counts as above it
    assert edge.similarity == pytest.approx(0.5, abs=1e-6)
    assert banana.skill is None
    assert banana.similarity == pytest.approx(0.3, abs=1e-6)
    assert _vocab(floor=0.51)[0].map_keyword("on the floor").skill is None


def test_map_keywords_encodes_once_and_keeps_order() -> None:
    vocab, embedder = _vocab()
    matches = vocab.map_keywords(["banana", "Genetics", "integration"])
    assert [m.skill for m in matches] == [None, "genetics", "calculus"]
    # One call for the two keywords that are not exact matches, one for the vocabulary.
    assert sorted(embedder.calls) == sorted([["banana", "integration"], SKILLS])


def test_nearest_skills_ranks_and_filters() -> None:
    vocab, _ = _vocab()
    [ranked] = vocab.nearest_skills(["integration"], top_n=2, floor=0.0)
    assert [m.skill for m in ranked] == ["calculus", "genetics"]
    assert ranked[0].keyword == "integration"
    assert ranked[0].similarity > ranked[1].similarity
    [filtered] = vocab.nearest_skills(["integration"], top_n=3, floor=0.5)
    assert [m.skill for m in filtered] == ["calculus"]
    rows = np.array([VECTORS["history"]], dtype=np.float32)
    [[from_vector]] = vocab.nearest_skills(rows, top_n=1)
    assert (from_vector.keyword, from_vector.skill) == ("", "history")


def test_cache_is_written_reused_and_keyed_by_the_skill_list(tmp_path: Path) -> None:
    first, _ = _vocab(cache_dir=tmp_path)
    first.map_keyword("integration")
    assert first.cache_path is not None and first.cache_path.is_file()

    again, embedder = _vocab(cache_dir=tmp_path)
    assert again.map_keyword("integration").skill == "calculus"
    assert embedder.calls == [["integration"]]

    changed = SkillVocabulary(SKILLS[:2], HandMadeEmbedder(), cache_dir=tmp_path)
    assert changed.cache_path != first.cache_path
    assert changed.embeddings().shape == (2, 4)


def test_unreadable_cache_is_recomputed(tmp_path: Path) -> None:
    vocab, _ = _vocab(cache_dir=tmp_path)
    assert vocab.cache_path is not None
    vocab.cache_path.write_bytes(b"not a numpy file")
    assert vocab.embeddings().shape == (3, 4)
    assert np.load(vocab.cache_path).shape == (3, 4)


def test_default_skills() -> None:
    skills = load_default_skills()
    assert 150 <= len(skills) <= 250
    assert len(set(skills)) == len(skills)
    assert all(s == s.strip().lower() and not s.startswith("#") for s in skills)
    for skill in [
        "algebra",
        "calculus",
        "organic chemistry",
        "genetics",
        "pharmacology",
        "microeconomics",
        "accounting",
        "contract law",
        "ethics",
        "philosophy of mind",
        "psychology",
        "history",
        "algorithms",
        "electrical engineering",
        "nutrition",
        "arithmetic",
        "word problems",
        "reading comprehension",
        "commonsense reasoning",
    ]:
        assert skill in skills


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return minilm_or_skip()


@pytest.mark.embeddings
def test_real_minilm_mapping_and_cache(minilm: MiniLMEmbedder, tmp_path: Path) -> None:
    vocab = SkillVocabulary(load_default_skills(), minilm, cache_dir=tmp_path)
    assert vocab.floor == DEFAULT_FLOOR
    calculus, bread = vocab.map_keywords(["integral calculus", "banana bread recipe"])
    assert calculus.skill is not None and "calculus" in calculus.skill
    assert bread.skill is None
    assert vocab.cache_path is not None and vocab.cache_path.is_file()

    # A second vocabulary reads the cache: its embedder never sees the skill list.
    seen: list[int] = []

    class Counting:
        def encode(self, texts: list[str]) -> Array:
            seen.append(len(texts))
            return minilm.encode(texts)

    Counting.__qualname__ = MiniLMEmbedder.__qualname__  # same cache key as the first
    reread = SkillVocabulary(load_default_skills(), Counting(), cache_dir=tmp_path)
    np.testing.assert_array_equal(reread.embeddings(), vocab.embeddings())
    assert seen == []


@pytest.mark.embeddings
def test_real_minilm_covers_mmlu_pro_categories(minilm: MiniLMEmbedder) -> None:
    vocab = SkillVocabulary(load_default_skills(), minilm)
    categories = [
        "biology",
        "business",
        "chemistry",
        "computer science",
        "economics",
        "engineering",
        "health",
        "history",
        "law",
        "math",
        "philosophy",
        "physics",
        "psychology",
    ]  # "other" is no subject
    unmapped = [m.keyword for m in vocab.map_keywords(categories) if m.skill is None]
    assert unmapped == []
