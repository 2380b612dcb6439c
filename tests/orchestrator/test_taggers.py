"""Skill taggers: the embedding tagger on the real MiniLM, the LLM tagger through a stage on
scripted models, and the precomputed tagger of evaluation runs."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

from orchestrator.experts import ExpertRegistry
from orchestrator.runners import InProcessRunner
from orchestrator.stages import StageExecutor
from orchestrator.taggers import EmbeddingTagger, LLMTagger, PrecomputedTagger, TaggerOptions
from orchestrator.trace import SkillTagging
from skills.embeddings import Array
from skills.vocabulary import SkillVocabulary, load_default_skills
from tests.minilm import minilm_or_skip
from tests.orchestrator.conftest import scripted_expert
from workers.backends.scripted import ScriptedBackend
from workers.pool import ModelPool
from workers.types import Completion, GenerationParams, Prompt

NO_MAPPING = "tagger named no keyword that maps to the vocabulary"


def _stages(
    registry: ExpertRegistry, pool: ModelPool | None = None
) -> tuple[StageExecutor, ModelPool]:
    pool = pool or ModelPool(10_000)
    return StageExecutor(InProcessRunner(pool), registry), pool


# --- EmbeddingTagger: the real bundled all-MiniLM-L6-v2 ---------------------------------


@pytest.fixture(scope="module")
def minilm_vocabulary(tmp_path_factory: pytest.TempPathFactory) -> SkillVocabulary:
    cache = tmp_path_factory.mktemp("skill-embeddings")
    return SkillVocabulary(load_default_skills(), minilm_or_skip(), cache_dir=cache)


@pytest.mark.embeddings
def test_embedding_tagger_maps_clear_questions_to_their_subject(
    minilm_vocabulary: SkillVocabulary,
) -> None:
    questions = [
        "Which organelle carries out cellular respiration and produces most of the ATP in a "
        "eukaryotic cell?",
        "Under contract law, is a promise made without consideration enforceable by the promisee?",
        "What is the derivative of x^3 + 2x with respect to x?",
    ]
    stages, pool = _stages(ExpertRegistry([scripted_expert("unused")]))
    biology, law, math = EmbeddingTagger(minilm_vocabulary).tag(
        ["bio", "law", "math"], questions, stages
    )
    # Measured once: cell biology 0.491, then biochemistry and molecular biology (0.363,
    # within 0.001 of each other, so their order is not asserted).
    assert biology.method == "embedding"
    assert biology.skills[0] == "cell biology"
    assert set(biology.skills[1:]) == {"biochemistry", "molecular biology"}
    assert biology.similarities["cell biology"] == pytest.approx(0.4914, abs=1e-3)
    # contract law 0.477, business law 0.272, intellectual property law 0.258
    assert law.skills == ["contract law", "business law", "intellectual property law"]
    assert law.similarities["contract law"] == pytest.approx(0.4765, abs=1e-3)
    # calculus 0.416; the next, differential equations (0.242), is below the question floor
    assert math.skills == ["calculus"]
    assert list(math.similarities) == ["calculus"]
    assert math.similarities["calculus"] == pytest.approx(0.416, abs=1e-3)
    assert [t.notes for t in (biology, law, math)] == [[], [], []]
    assert pool.stats.loads == 0  # no LLM is asked


@pytest.mark.embeddings
def test_embedding_tagger_keeps_as_many_skills_as_asked_and_notes_none(
    minilm_vocabulary: SkillVocabulary,
) -> None:
    tagger = EmbeddingTagger(minilm_vocabulary, TaggerOptions(skills_per_query=1))
    stages, _ = _stages(ExpertRegistry([scripted_expert("unused")]))
    hearsay, nonsense = tagger.tag(
        ["q1", "q2"],
        [
            "In a court of law, can hearsay evidence be admitted if the declarant is unavailable?",
            "zxq vbnm plok",  # nearest skill 0.20, below the floor
        ],
        stages,
    )
    assert hearsay.skills == ["evidence law"]
    assert nonsense.skills == []
    assert nonsense.similarities == {}
    assert nonsense.notes == ["no vocabulary skill above the floor"]


# --- LLMTagger: a tag stage on a scripted tagger model ----------------------------------

SKILLS = ["cell biology", "genetics", "contract law"]
MITOCHONDRIA = [0.8, 0.0, 0.0, 0.6]  # cosine 0.8 to "cell biology"


class AxisEmbedder:
    """Skill i is axis i; "mitochondria" sits near cell biology; anything else is orthogonal
    to every skill (similarity 0, below the floor)."""

    def encode(self, texts: list[str]) -> Array:
        rows = []
        for text in texts:
            row = [0.0, 0.0, 0.0, 1.0]
            if text in SKILLS:
                row = [float(i == SKILLS.index(text)) for i in range(4)]
            elif text == "mitochondria":
                row = MITOCHONDRIA
            rows.append(row)
        return np.array(rows, dtype=np.float32)


class SampledReplies(ScriptedBackend):
    """`options.samples`: a substring of the prompt -> the replies of its successive samples
    within one call (the scripted backend alone answers every sample alike). Records the
    params and batch sizes it was given."""

    calls: ClassVar[list[tuple[int, GenerationParams]]] = []

    def generate(self, prompts: list[Prompt], params: GenerationParams) -> list[Completion]:
        SampledReplies.calls.append((len(prompts), params))
        samples = self.spec.options["samples"]
        assert isinstance(samples, dict)
        seen: dict[str, int] = {}
        out = []
        for prompt in prompts:
            last = prompt.messages[-1].content
            key = next(k for k in samples if k in last)
            n = seen.get(key, 0)
            seen[key] = n + 1
            out.append(Completion(text=samples[key][n]))
        return out


REPLIES = {
    # cell biology in all three, genetics and cooking in two, chemistry in one
    "<cells>": [
        "Keywords: cell biology, genetics, cooking",
        "Keywords: Cell Biology, chemistry",
        "1. Genetics\n2. cell biology\n3. cooking",
    ],
    # mitochondria recurs and lies near cell biology
    "<organelle>": ["Keywords: mitochondria, energy", "Keywords: Mitochondria", "biology"],
    # recurring keywords, none near a skill
    "<bread>": ["Keywords: cooking, baking", "Keywords: baking, cooking", "Keywords: baking"],
    # nothing recurs
    "<chaos>": ["Keywords: genetics", "Keywords: contract law", "Keywords: cell biology"],
}


@pytest.fixture
def llm_setup() -> tuple[LLMTagger, StageExecutor, ModelPool]:
    SampledReplies.calls = []
    tagger_model = scripted_expert("tagger", roles=["tagger"], options={"samples": REPLIES})
    vocabulary = SkillVocabulary(SKILLS, AxisEmbedder())
    tagger = LLMTagger(vocabulary, TaggerOptions(expert="tagger", samples=3))
    stages, pool = _stages(
        ExpertRegistry([tagger_model]), ModelPool(10_000, factory=SampledReplies)
    )
    return tagger, stages, pool


def test_llm_tagger_keeps_recurring_keywords_and_maps_them(
    llm_setup: tuple[LLMTagger, StageExecutor, ModelPool],
) -> None:
    tagger, stages, pool = llm_setup
    cells, organelle = tagger.tag(
        ["q1", "q2"], ["<cells> What powers a cell?", "<organelle> Name it."], stages
    )
    assert cells == SkillTagging(
        method="llm",
        keywords=["cell biology", "genetics", "cooking"],
        skills=["cell biology", "genetics"],
        similarities={"cell biology": 1.0, "genetics": 1.0},
    )
    assert organelle == SkillTagging(
        method="llm",
        keywords=["mitochondria"],
        skills=["cell biology"],
        similarities={"cell biology": 0.8},
    )
    # one tag stage: one group of 3 samples per question, sampled at temperature 0.7
    assert [(t.stage, t.groups, t.loads) for t in stages.timings] == [("tag", 1, 1)]
    assert SampledReplies.calls == [(6, GenerationParams(max_tokens=32, temperature=0.7))]
    assert pool.stats.loads_by_model == {"tagger": 1}


def test_llm_tagger_notes_when_no_keyword_maps(
    llm_setup: tuple[LLMTagger, StageExecutor, ModelPool],
) -> None:
    tagger, stages, _ = llm_setup
    bread, chaos = tagger.tag(["q1", "q2"], ["<bread> Bake it.", "<chaos> Anything."], stages)
    # baking in all three samples, cooking in two
    assert (bread.keywords, bread.skills, bread.notes) == (["baking", "cooking"], [], [NO_MAPPING])
    assert bread.similarities == {}
    assert (chaos.keywords, chaos.skills, chaos.notes) == ([], [], [NO_MAPPING])


def test_llm_tagger_with_a_failed_tagger_model_notes_every_question() -> None:
    broken = scripted_expert("tagger", roles=["tagger"], options={"fail_load": True})
    stages, _ = _stages(ExpertRegistry([broken]))
    tagger = LLMTagger(SkillVocabulary(SKILLS, AxisEmbedder()), TaggerOptions(expert="tagger"))
    taggings = tagger.tag(["q1", "q2"], ["<cells>", "<bread>"], stages)
    assert [(t.keywords, t.skills, t.notes) for t in taggings] == [([], [], [NO_MAPPING])] * 2


# --- PrecomputedTagger -------------------------------------------------------------------


def test_precomputed_tagger_returns_copies_in_the_order_asked() -> None:
    stored = {
        "a": SkillTagging(method="llm", keywords=["dna"], skills=["genetics"]),
        "b": SkillTagging(method="embedding", skills=["contract law"], notes=["kept"]),
    }
    tagger = PrecomputedTagger(stored)
    stages, _ = _stages(ExpertRegistry([scripted_expert("unused")]))
    first = tagger.tag(["b", "a", "b"], ["?", "?", "?"], stages)
    assert [t.skills for t in first] == [["contract law"], ["genetics"], ["contract law"]]
    assert first[0] == stored["b"]
    assert first[0] is not stored["b"]
    assert first[0] is not first[2]

    first[0].skills.append("tort law")
    first[0].notes.clear()
    first[1].keywords[0] = "changed"
    assert stored["b"].skills == ["contract law"]
    assert stored["b"].notes == ["kept"]
    assert stored["a"].keywords == ["dna"]
    assert tagger.tag(["b"], ["?"], stages) == [stored["b"]]
