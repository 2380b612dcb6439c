"""Skill taggers: from a batch of questions to vocabulary skills. Registry: TAGGERS."""

from __future__ import annotations

from abc import ABC, abstractmethod

from orchestrator.scheduler import StageRequest
from orchestrator.stages import StageExecutor
from orchestrator.trace import SkillTagging
from skills.tagging import keyword_prompt, parse_keywords, recurring_keywords
from skills.vocabulary import SkillVocabulary
from workers.types import GenerationParams, Prompt


class Tagger(ABC):
    name: str = ""

    def __init__(self, vocabulary: SkillVocabulary, top_n: int = 3) -> None:
        self.vocabulary = vocabulary
        self.top_n = top_n

    @abstractmethod
    def tag(
        self, keys: list[str], questions: list[str], stages: StageExecutor
    ) -> list[SkillTagging]:
        """One tagging per question, in order."""


class EmbeddingTagger(Tagger):
    """No LLM: the vocabulary skills nearest to the question's embedding."""

    name = "embedding"

    def tag(
        self, keys: list[str], questions: list[str], stages: StageExecutor
    ) -> list[SkillTagging]:
        out = []
        for matches in self.vocabulary.nearest_skills(questions, top_n=self.top_n):
            kept = [m for m in matches if m.skill is not None]
            tagging = SkillTagging(
                method=self.name,
                skills=[m.skill for m in kept if m.skill],
                similarities={m.skill: round(m.similarity, 4) for m in kept if m.skill},
            )
            if not kept:
                tagging.notes.append("no vocabulary skill above the floor")
            out.append(tagging)
        return out


class LLMTagger(Tagger):
    """The reference method: a tagger LLM names 2-5 keywords, sampled several times; keywords
    that recur are kept and mapped to the vocabulary (below the floor they are dropped)."""

    name = "llm"

    def __init__(
        self, vocabulary: SkillVocabulary, expert: str, samples: int = 3, top_n: int = 5
    ) -> None:
        super().__init__(vocabulary, top_n)
        self.expert = expert
        self.samples = samples

    def tag(
        self, keys: list[str], questions: list[str], stages: StageExecutor
    ) -> list[SkillTagging]:
        requests = [
            StageRequest(key=key, slot=s, expert=self.expert, prompt=Prompt.user(keyword_prompt(q)))
            for key, q in zip(keys, questions, strict=True)
            for s in range(self.samples)
        ]
        # Sampling (temperature 0.7, a seed per sample slot) is what makes recurrence meaningful.
        items = stages.run(
            "tag", requests, lambda _: GenerationParams(max_tokens=32, temperature=0.7)
        )
        replies: dict[str, list[list[str]]] = {k: [] for k in keys}
        for item in items:
            if item.completion is not None:
                replies[item.request.key].append(parse_keywords(item.completion.text))
        out = []
        for key in keys:
            keywords = recurring_keywords(replies[key])
            tagging = SkillTagging(method=self.name, keywords=keywords)
            matches = self.vocabulary.map_keywords(keywords) if keywords else []
            for m in matches:
                if m.skill and m.skill not in tagging.skills:
                    tagging.skills.append(m.skill)
                    tagging.similarities[m.skill] = round(m.similarity, 4)
            tagging.skills = tagging.skills[: self.top_n]
            if not tagging.skills:
                tagging.notes.append("tagger named no keyword that maps to the vocabulary")
            out.append(tagging)
        return out


TAGGERS: dict[str, type[Tagger]] = {
    EmbeddingTagger.name: EmbeddingTagger,
    LLMTagger.name: LLMTagger,
}


class PrecomputedTagger(Tagger):
    """Taggings computed once for a whole run (evaluation tags each item once, then every
    method and seed reuses them)."""

    name = "precomputed"

    def __init__(self, taggings: dict[str, SkillTagging]) -> None:
        self.taggings = taggings

    def tag(
        self, keys: list[str], questions: list[str], stages: StageExecutor
    ) -> list[SkillTagging]:
        return [self.taggings[k].model_copy(deep=True) for k in keys]
