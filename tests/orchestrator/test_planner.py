"""The planning phase: tag -> retrieval gate -> recruit -> aggregator, before any model runs."""

from __future__ import annotations

import pytest

from orchestrator.aggregators import all_aggregators
from orchestrator.errors import InputError
from orchestrator.experts import ExpertRegistry
from orchestrator.plan import BatchOptions, DirectPrompt, Query
from orchestrator.planner import Planner, direct_plan
from orchestrator.prompts import expert_prompt
from orchestrator.recruiters import SymbolicRecruiter
from orchestrator.retrieval import GATES, GateContext, NeverRetrieve, RetrievalGate
from orchestrator.retrieval.types import Chunk, SearchHit
from orchestrator.runners import InProcessRunner
from orchestrator.stages import StageExecutor
from orchestrator.trace import RetrievalDecision, SkillTagging
from skills.profiles import ProfileSet, SkillScore
from workers.pool import ModelPool
from workers.types import GenerationParams, Prompt

from .conftest import FixedTagger, scripted_expert

MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


class RecordingGate(RetrievalGate):
    """Retrieves for every question tagged `law`, and keeps what it was asked."""

    name = "recording"

    def __init__(self) -> None:
        super().__init__(None)
        self.seen: list[list[str]] = []

    def decide(self, questions: list[str], taggings: list[SkillTagging]) -> list[RetrievalDecision]:
        self.seen.append([s for t in taggings for s in t.skills])
        return [
            RetrievalDecision(gate=self.name, retrieve="law" in t.skills, reasons=["law"])
            for t in taggings
        ]


def _registry() -> ExpertRegistry:
    agg = scripted_expert("agg", roles=["aggregator"])
    a, b = (scripted_expert(n, roles=["expert"]) for n in "ab")
    return ExpertRegistry([a, b, agg])


def _planner(profile: ProfileSet | None = None, gate: RetrievalGate | None = None) -> Planner:
    return Planner(
        registry=_registry(),
        tagger=FixedTagger(["law"]),
        gate=gate or NeverRetrieve(GateContext(profile)),
        recruiter=SymbolicRecruiter(profile, seed=0),
        aggregators=all_aggregators(),
        profile=profile,
    )


def _stages() -> tuple[StageExecutor, ModelPool]:
    pool = ModelPool(1000)
    return StageExecutor(InProcessRunner(pool), _registry()), pool


def test_a_plan_holds_each_step_in_order_and_loads_no_model() -> None:
    gate = RecordingGate()
    stages, pool = _stages()
    queries = [Query(text=MC), Query(text="Is a verbal contract binding?")]
    plans = _planner(gate=gate).plan(queries, BatchOptions(k=2, aggregation="llm"), stages)
    assert [p.query.id for p in plans] == [q.id for q in queries]
    assert gate.seen == [["law", "law"]]  # the gate saw the tagger's skills
    for plan in plans:
        assert plan.tagging.skills == ["law"]
        # the gate asked for retrieval; with no retriever configured the experts answer alone
        assert plan.retrieval == RetrievalDecision(
            gate="recording",
            retrieve=False,
            reasons=["law", "no retriever is configured: answered without retrieval"],
        )
        assert len(plan.recruitment.drawn) == 2 and set(plan.recruitment.drawn) <= {"a", "b"}
        assert plan.aggregation == "llm" and plan.aggregator == "agg"
        assert plan.pool == ["a", "b"]  # only the expert role answers
    assert [p.fmt for p in plans] == ["letter", "free"]
    assert pool.stats.loads == 0


def test_the_default_gate_never_retrieves_and_a_vote_has_no_aggregator() -> None:
    stages, _ = _stages()
    (plan,) = _planner().plan([Query(text=MC)], BatchOptions(k=1, aggregation="vote"), stages)
    assert plan.retrieval.gate == "never" and plan.retrieval.retrieve is False
    assert plan.aggregator is None and plan.recruitment.aggregation == "vote"
    assert GATES.names() == ["never", "always", "skr_knn", "expert_rag"]


def test_the_aggregator_comes_from_the_option_then_the_profile() -> None:
    options = BatchOptions(k=1, aggregation="llm")
    assert _planner().choose_aggregator(options) == "agg"
    assert _planner().choose_aggregator(options.model_copy(update={"aggregator": "b"})) == "b"
    two = ExpertRegistry(
        [
            scripted_expert("a", roles=["expert"]),
            scripted_expert("x", roles=["aggregator"]),
            scripted_expert("y", roles=["aggregator"]),
        ]
    )
    score = {"law": SkillScore(score=1, count=1)}
    profile = ProfileSet(name="p", experts={"a": score}, accuracy={"x": 0.2, "y": 0.9})
    planner = _planner(profile)
    planner.registry = two
    assert planner.choose_aggregator(options) == "y"  # the most accurate
    profile.aggregators["default"] = "x"
    assert planner.choose_aggregator(options) == "x"  # the profile's default wins


def test_an_unknown_gate_is_refused_naming_the_known_ones() -> None:
    stages, _ = _stages()
    options = BatchOptions(k=1, aggregation="vote", retrieval="auto")
    options = options.model_copy(update={"retrieval": "sometimes"})
    with pytest.raises(InputError, match=r"unknown retrieval gate 'sometimes' \(known: never, al"):
        _planner().plan([Query(text=MC)], options, stages)
    with pytest.raises(InputError, match=r"unknown retrieval gate") as err:
        _planner().plan([Query(text=MC)], options, stages)
    assert err.value.param == "retrieval"


def test_a_direct_plan_has_one_expert_and_its_own_prompt() -> None:
    params = GenerationParams(max_tokens=5, json_schema={"type": "object"})
    direct = DirectPrompt(prompt=Prompt.user("hi"), params=params)
    plan = direct_plan(Query(text="hi"), "a", direct, ["n"])
    assert plan.recruitment.drawn == ["a"] and plan.pool == ["a"]
    assert plan.aggregation == "direct" and plan.fmt == "json"
    assert plan.recruitment.notes == ["n"] and plan.direct == direct


def _hit(chunk_id: int, source: str, text: str, score: float, tokens: int = 5) -> SearchHit:
    chunk = Chunk(id=chunk_id, document_id=1, source=source, position=0, text=text, tokens=tokens)
    return SearchHit(chunk=chunk, score=score, rank=chunk_id, retriever="test")


def test_a_retrieving_gate_puts_numbered_passages_in_the_plan_and_the_prompts() -> None:
    asked: list[tuple[str, int]] = []

    def search(query: str, k: int) -> list[SearchHit]:
        asked.append((query, k))
        return [_hit(7, "a.md", "Paris is the capital.", 0.9), _hit(9, "b.md", "Lyon.", 0.5)]

    planner = _planner()
    planner.search, planner.passages = search, 2
    stages, _ = _stages()
    options = BatchOptions(k=1, aggregation="vote", retrieval="always")
    (plan,) = planner.plan([Query(text="Capital of France?")], options, stages)
    assert asked == [("Capital of France?", 2)]
    assert plan.retrieval.retrieve and plan.retrieval.gate == "always"
    assert plan.retrieval.passage_tokens == 10  # two chunks of 5 tokens
    assert [(p.number, p.chunk_id, p.source) for p in plan.retrieval.passages] == [
        (1, 7, "a.md"),
        (2, 9, "b.md"),
    ]
    prompt = expert_prompt("Capital of France?", "free", False, passages=plan.retrieval.passages)
    text = prompt.messages[-1].content
    assert text.startswith("Sources:\n[1] (a.md) Paris is the capital.\n[2] (b.md) Lyon.\n\n")
    assert "cite each one you use as [1], [2]" in text
    base = expert_prompt("Q?", "free", True, passages=plan.retrieval.passages)
    assert "[2] (b.md) Lyon.\n\nQuestion: Q?\nAnswer:" in base.messages[-1].content


def test_without_a_store_or_a_retriever_the_query_is_answered_from_the_experts() -> None:
    stages, _ = _stages()
    options = BatchOptions(k=1, aggregation="vote", retrieval="always")
    (plan,) = _planner().plan([Query(text=MC)], options, stages)  # no retriever configured
    assert not plan.retrieval.retrieve and plan.retrieval.passages == []
    assert plan.retrieval.reasons[-1] == "no retriever is configured: answered without retrieval"
    empty = _planner()
    empty.search = lambda query, k: []
    (plan,) = empty.plan([Query(text=MC)], options, stages)
    assert not plan.retrieval.retrieve
    assert plan.retrieval.reasons[-1] == "the document store is empty: answered without retrieval"


def test_passages_are_trimmed_to_fit_the_smallest_context() -> None:
    small = [scripted_expert(n, roles=["expert"], n_ctx=400) for n in "ab"]
    planner = _planner()
    planner.registry = ExpertRegistry([*small, scripted_expert("agg", roles=["aggregator"])])
    stages, _ = _stages()
    options = BatchOptions(k=1, aggregation="vote", retrieval="always", expert_max_tokens=100)
    # budget: 400 context - 100 answer - 4 question - 64 instructions = 232 tokens, and a
    # passage's embedder tokens count 1.25 times: two passages of 80 fit (200), three do not
    for hit_tokens, kept in ((80, 2), (300, 0)):
        planner.search = lambda query, k, t=hit_tokens: [
            _hit(i, f"s{i}", "text", 0.5, tokens=t) for i in (1, 2, 3)
        ]
        (plan,) = planner.plan([Query(text="Capital of France?")], options, stages)
        assert len(plan.retrieval.passages) == kept
        assert f"kept {kept} of 3" in plan.retrieval.reasons[1]
        assert plan.retrieval.retrieve is (kept > 0)
    assert plan.retrieval.reasons[-1] == (
        "no passage fits beside the question: answered without retrieval"
    )
