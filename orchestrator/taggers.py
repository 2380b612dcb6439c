"""Skill taggers: from a batch of questions to vocabulary skills. Registry: TAGGERS."""

from __future__ import annotations

from abc import ABC, abstractmethod

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.errors import ConfigError
from orchestrator.scheduler import StageRequest
from orchestrator.stages import StageExecutor
from orchestrator.trace import SkillTagging
from skills.tagging import keyword_prompt, parse_keywords, recurring_keywords
from skills.vocabulary import SkillVocabulary
from workers.registry import Registry
from workers.types import GenerationParams, Prompt


class TaggerOptions(BaseModel):
    """What every registered tagger is built from, besides the vocabulary; each tagger reads
    the fields it uses."""

    model_config = ConfigDict(frozen=True)

    skills_per_query: int = Field(default=3, ge=1, description="embedding: nearest skills kept")
    samples: int = Field(default=3, ge=1, description="llm: keyword samples per question")
    expert: str | None = Field(default=None, description="llm: the expert with the tagger role")


class Tagger(ABC):
    name: str = ""

    def __init__(self, vocabulary: SkillVocabulary, options: TaggerOptions | None = None) -> None:
        self.vocabulary = vocabulary
        self.options = options or TaggerOptions()

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
        top_n = self.options.skills_per_query
        for matches in self.vocabulary.nearest_skills(questions, top_n=top_n):
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
    max_skills = 5  # one per keyword the tagger may name

    def __init__(self, vocabulary: SkillVocabulary, options: TaggerOptions | None = None) -> None:
        super().__init__(vocabulary, options)
        if self.options.expert is None:
            raise ConfigError("tagger 'llm' needs an expert with the tagger role")
        self.expert = self.options.expert
        self.samples = self.options.samples

    def tag(
        self, keys: list[str], questions: list[str], stages: StageExecutor
    ) -> list[SkillTagging]:
        requests = [
            StageRequest(key=key, slot=s, expert=self.expert, prompt=Prompt.user(keyword_prompt(q)))
            for key, q in zip(keys, questions, strict=True)
            for s in range(self.samples)
        ]
        # Sampling (temperature 0.7, a seed per sample slot) is what makes recurrence meaningful.
        items = stages.run_stage(
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
            tagging.skills = tagging.skills[: self.max_skills]
            if not tagging.skills:
                tagging.notes.append("tagger named no keyword that maps to the vocabulary")
            out.append(tagging)
        return out


# name (SYMOE_TAGGER, --tagger) -> class taking (vocabulary, TaggerOptions)
TAGGERS: Registry[Tagger] = Registry(
    "tagger",
    {EmbeddingTagger.name: EmbeddingTagger, LLMTagger.name: LLMTagger},
    error=ConfigError,
)


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
