"""The planning phase: for a batch of queries, in order, tag -> retrieval gate -> recruit ->
choose the aggregator. It checks what needs no model first, so bad input fails before any
model loads. The plans it returns are what execution runs (orchestrator/execution.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

from orchestrator.aggregators import AggregatorPolicy, resolve_aggregation
from orchestrator.answers import detect_format
from orchestrator.errors import InputError
from orchestrator.experts import ExpertRegistry
from orchestrator.plan import BatchOptions, DirectPrompt, Plan, Query
from orchestrator.recruiters import Recruiter, RecruitRequest
from orchestrator.retrieval import GATES, RetrievalGate
from orchestrator.retrieval.types import SearchHit
from orchestrator.stages import StageExecutor
from orchestrator.taggers import Tagger
from orchestrator.trace import Passage, Recruitment, RetrievalDecision, SkillTagging
from skills.profiles import ProfileSet

# A token is at least ~4 characters of English; a question this many characters per context
# token cannot fit any expert, so it is refused before any model loads.
_CHARS_PER_TOKEN_FLOOR = 4
# Room a prompt's instructions and sources header take, and how much finer an expert's
# tokenizer may cut a passage than the embedder's, when passages are fitted to a context.
_PROMPT_OVERHEAD_TOKENS = 64
_TOKENIZER_MARGIN = 1.25
DIRECT = "direct"  # the tagger, recruiter and aggregation names of a one-expert plan
Search = Callable[[str, int], list[SearchHit]]  # (query, k) -> the top passages


class Planner:
    def __init__(
        self,
        registry: ExpertRegistry,
        tagger: Tagger,
        gate: RetrievalGate,
        recruiter: Recruiter,
        aggregators: dict[str, AggregatorPolicy],
        profile: ProfileSet | None = None,
        search: Search | None = None,
        passages: int = 3,
    ) -> None:
        self.registry = registry
        self.tagger = tagger
        self.gate = gate
        self.recruiter = recruiter
        self.aggregators = aggregators
        self.profile = profile
        self._gates: dict[str, RetrievalGate] = {gate.name: gate}
        self.search = search  # none: no document store to retrieve from
        self.passages = passages

    def validate(self, queries: list[Query], options: BatchOptions) -> list[str]:
        """Checks that need no model; raises InputError. Returns the candidate pool."""
        if not queries:
            raise InputError("no question given")
        pool_experts = (
            self.registry.select(options.experts)
            if options.experts
            else self.registry.with_role("expert")
        )
        pool = [e.name for e in pool_experts if e.enabled]
        if not pool:
            raise InputError("no enabled expert to answer with")
        longest = max(e.n_ctx for e in pool_experts)
        for q in queries:
            if not q.text.strip():
                raise InputError("the question is empty")
            size = len(q.text) + (q.conversation.size() if q.conversation else 0)
            if size > longest * _CHARS_PER_TOKEN_FLOOR * 2:
                raise InputError(
                    f"the question ({size} characters) is longer than the context of "
                    f"every expert (largest: {longest} tokens)"
                )
        if options.aggregation not in self.aggregators:
            known = ", ".join(self.aggregators)
            raise InputError(
                f"unknown aggregation {options.aggregation!r} (known: {known})", "aggregation"
            )
        if options.retrieval is not None and options.retrieval not in GATES:
            raise InputError(
                f"unknown retrieval gate {options.retrieval!r} (known: {', '.join(GATES)})",
                "retrieval",
            )
        if options.aggregator:
            self.registry.get(options.aggregator)
        return pool

    def plan(
        self, queries: list[Query], options: BatchOptions, stages: StageExecutor
    ) -> list[Plan]:
        """One plan per query, in order. `stages` runs the tagger's model calls, if any."""
        pool = self.validate(queries, options)
        taggings = self.tagger.tag([q.id for q in queries], [q.text for q in queries], stages)
        decisions = self._gate(options).decide([q.text for q in queries], taggings)
        for q, decision in zip(queries, decisions, strict=True):
            if decision.retrieve:
                self._retrieve(q, decision, self._passage_budget(q, pool, options))
        recruitments = self.recruiter.recruit(
            [
                RecruitRequest(key=q.text, skills=t.skills, k=options.k, pool=pool)
                for q, t in zip(queries, taggings, strict=True)
            ]
        )
        policy = self.aggregators[self.aggregation_for(options)]
        aggregator = self.choose_aggregator(options) if policy.uses_model else None
        plans = []
        for q, tagging, decision, recruitment in zip(
            queries, taggings, decisions, recruitments, strict=True
        ):
            recruitment.aggregation, recruitment.aggregator = policy.name, aggregator
            if self.profile is not None and not recruitment.expected_accuracy:
                # what logodds_vote weighs by, whichever recruiter drew the committee
                expected = self.profile.expected_accuracy(tagging.skills)
                recruitment.expected_accuracy = {
                    m: round(expected[m], 6) for m in recruitment.drawn if m in expected
                }
            plans.append(
                Plan(
                    query=q,
                    fmt=q.fmt or detect_format(q.text),
                    tagging=tagging,
                    retrieval=decision,
                    recruitment=recruitment,
                    pool=pool,
                    stacker=self.profile.stacker if self.profile is not None else None,
                )
            )
        return plans

    def _passage_budget(self, query: Query, pool: list[str], options: BatchOptions) -> int:
        """Tokens the passages may take in the smallest context of the pool: what the
        question, the instructions and the answer leave (estimated, as in `validate`)."""
        experts = [self.registry.get(name) for name in pool]
        context = min(e.n_ctx for e in experts)
        answer = max(e.generation_params(options.expert_max_tokens).max_tokens for e in experts)
        size = len(query.text) + (query.conversation.size() if query.conversation else 0)
        return context - answer - size // _CHARS_PER_TOKEN_FLOOR - _PROMPT_OVERHEAD_TOKENS

    def _retrieve(self, query: Query, decision: RetrievalDecision, budget: int) -> None:
        """The top passages for a query the gate sends to retrieval, as many as fit
        `budget` tokens; without any, the query is answered from the experts alone and the
        decision says why."""
        if self.search is None:
            decision.retrieve = False
            decision.reasons.append("no retriever is configured: answered without retrieval")
            return
        started = time.perf_counter()
        hits = self.search(query.text, self.passages)
        decision.search_seconds = time.perf_counter() - started
        if not hits:
            decision.retrieve = False
            decision.reasons.append("the document store is empty: answered without retrieval")
            return
        found = len(hits)
        # chunk sizes are embedder tokens; an expert's tokenizer may cut the text finer
        while hits and sum(h.chunk.tokens for h in hits) * _TOKENIZER_MARGIN > budget:
            hits = hits[:-1]
        if len(hits) < found:
            decision.reasons.append(
                f"passages trimmed to fit the smallest context: kept {len(hits)} of {found}"
            )
        if not hits:
            decision.retrieve = False
            decision.reasons.append(
                "no passage fits beside the question: answered without retrieval"
            )
            return
        decision.passages = [
            Passage(
                number=i,
                chunk_id=h.chunk.id,
                source=h.chunk.source,
                text=h.chunk.text,
                score=h.score,
            )
            for i, h in enumerate(hits, start=1)
        ]
        decision.passage_tokens = sum(h.chunk.tokens for h in hits)

    def aggregation_for(self, options: BatchOptions) -> str:
        """The policy that answers: the option's, with `auto` resolved for this profile set."""
        return resolve_aggregation(options.aggregation, self.profile)

    def _gate(self, options: BatchOptions) -> RetrievalGate:
        """The configured gate, or the one a request names: built once per planner (a
        fitted gate loads its artifact), with the same profile and embedder."""
        name = options.retrieval or self.gate.name
        if name not in self._gates:
            self._gates[name] = GATES.create(name, self.gate.context)
        return self._gates[name]

    def choose_aggregator(self, options: BatchOptions) -> str:
        """The `aggregator` option, else the profile's default, else the most accurate
        aggregator, else the first one registered."""
        if options.aggregator:
            return options.aggregator
        candidates = [e.name for e in self.registry.with_role("aggregator")]
        if not candidates:
            raise InputError("aggregation 'llm' needs an expert with the aggregator role")
        profile = self.profile
        if profile is not None:
            chosen = profile.aggregators.get("default")
            if chosen in candidates:
                return chosen
            scored = [c for c in candidates if c in profile.accuracy]
            if scored:
                return max(scored, key=lambda c: profile.accuracy[c])
        return candidates[0]


def direct_plan(query: Query, expert: str, direct: DirectPrompt, notes: list[str]) -> Plan:
    """A one-expert plan: no tagging, no gate, no recruiting; the expert's answer is the
    answer (a chat completion that names an expert)."""
    fmt = "json" if direct.params.json_schema is not None else detect_format(query.text)
    return Plan(
        query=query,
        fmt=fmt,
        tagging=SkillTagging(method=DIRECT, notes=["direct call: no skill tagging"]),
        retrieval=RetrievalDecision(gate=DIRECT, reasons=["direct call"]),
        recruitment=Recruitment(
            recruiter=DIRECT, profile_set=None, drawn=[expert], aggregation=DIRECT, notes=notes
        ),
        pool=[expert],
        direct=direct,
    )
