"""The path of a batch of queries: tag -> recruit -> experts -> aggregate -> traces.

A single query is a batch of one: there is one code path.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from pydantic import BaseModel, Field

from orchestrator.aggregators import AggregationInput, AggregatorPolicy, ExpertAnswer
from orchestrator.answers import AnswerFormat, detect_format, extract
from orchestrator.conversation import Conversation
from orchestrator.errors import InputError
from orchestrator.experts import ExpertRegistry
from orchestrator.overrides import CallOverrides
from orchestrator.prompts import expert_prompt
from orchestrator.recruiters import Recruiter, RecruitRequest
from orchestrator.scheduler import StageRequest
from orchestrator.stages import StageExecutor, StageItem
from orchestrator.taggers import Tagger
from orchestrator.trace import BatchReport, ModelCall, Recruitment, Trace
from skills.profiles import ProfileSet
from workers.types import GenerationParams

# A token is at least ~4 characters of English; a question this many characters per context
# token cannot fit any expert, so it is refused before any model loads.
_CHARS_PER_TOKEN_FLOOR = 4


class Query(BaseModel):
    text: str
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    question_id: str | None = None
    fmt: AnswerFormat | None = None
    conversation: Conversation | None = Field(
        default=None, description="a chat's system prompt and earlier turns: every call gets it"
    )


class BatchOptions(BaseModel):
    k: int = Field(default=3, ge=1, le=64)
    experts: list[str] | None = Field(default=None, description="candidate pool; default all")
    aggregator: str | None = Field(default=None, description="aggregator expert name")
    aggregation: str = "llm"
    expert_max_tokens: int | None = None
    aggregator_max_tokens: int | None = None
    temperature: float | None = Field(default=None, description="override for expert calls")
    seed: int | None = Field(default=None, description="override of the generation seed")
    replace_failed: bool = Field(
        default=True, description="re-ask a failed expert's slot of another candidate"
    )
    overrides: CallOverrides = Field(default_factory=CallOverrides)


class Pipeline:
    def __init__(
        self,
        registry: ExpertRegistry,
        tagger: Tagger,
        recruiter: Recruiter,
        aggregators: dict[str, AggregatorPolicy],
        new_stages: Callable[[], StageExecutor],
        profile: ProfileSet | None = None,
    ) -> None:
        self.registry = registry
        self.tagger = tagger
        self.recruiter = recruiter
        self.aggregators = aggregators
        self.profile = profile
        self._new_stages = new_stages  # one executor per batch: it keeps that batch's timings

    # -- validation ---------------------------------------------------------------------------
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
            raise InputError(f"unknown aggregation {options.aggregation!r} (known: {known})")
        if options.aggregator:
            self.registry.get(options.aggregator)
        return pool

    # -- the batch ----------------------------------------------------------------------------
    def run(
        self,
        queries: list[Query],
        options: BatchOptions,
        on_answer_text: Callable[[str, str], None] | None = None,
    ) -> BatchReport:
        """Answer a batch. `on_answer_text(query id, new text)` streams each final answer:
        the aggregator's tokens as they are decoded where the runner streams, else the whole
        answer once it exists (a vote, a fallback, a runner that returns whole completions);
        the pieces of a query join to its trace's answer."""
        pool = self.validate(queries, options)
        started = time.perf_counter()
        batch_id = uuid.uuid4().hex
        stages = self._new_stages()
        keys = [q.id for q in queries]
        taggings = self.tagger.tag(keys, [q.text for q in queries], stages)
        plans = self.recruiter.recruit(
            [
                RecruitRequest(key=q.text, skills=t.skills, k=options.k, pool=pool)
                for q, t in zip(queries, taggings, strict=True)
            ]
        )
        policy = self.aggregators[options.aggregation]
        for plan in plans:
            plan.aggregation = policy.name
            if policy.uses_model:
                plan.aggregator = self._choose_aggregator(options)
        fmts = [q.fmt or detect_format(q.text) for q in queries]

        expert_items = self._expert_stage(queries, plans, fmts, options, stages)
        if options.replace_failed:
            expert_items += self._replacements(
                queries, plans, fmts, pool, expert_items, options, stages
            )
        traces = []
        for q, tagging, plan in zip(queries, taggings, plans, strict=True):
            trace = Trace(
                query_id=q.id, batch_id=batch_id, question=q.text, tagging=tagging, recruitment=plan
            )
            traces.append(trace)
        self._collect(traces, expert_items, fmts, "experts")
        conversations = [q.conversation for q in queries]
        self._aggregate(traces, fmts, conversations, options, stages, on_answer_text)
        elapsed = time.perf_counter() - started
        for trace in traces:
            trace.seconds = elapsed
            trace.stages = stages.timings
        return BatchReport(
            batch_id=batch_id,
            traces=traces,
            stages=stages.timings,
            loads=stages.loads,
            seconds=elapsed,
        )

    def _choose_aggregator(self, options: BatchOptions) -> str:
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

    def _expert_stage(
        self,
        queries: list[Query],
        plans: list[Recruitment],
        fmts: list[AnswerFormat],
        options: BatchOptions,
        stages: StageExecutor,
    ) -> list[StageItem]:
        requests = []
        for q, plan, fmt in zip(queries, plans, fmts, strict=True):
            for slot, name in enumerate(plan.drawn):
                completion = self.registry.get(name).chat_format == "completion"
                requests.append(
                    StageRequest(
                        key=q.id,
                        slot=slot,
                        expert=name,
                        prompt=expert_prompt(
                            q.text, fmt, completion, q.question_id, q.conversation
                        ),
                    )
                )
        return stages.run("experts", requests, self._expert_params(options))

    def _expert_params(self, options: BatchOptions) -> Callable[[str], GenerationParams]:
        def params(name: str) -> GenerationParams:
            base = self._params(name, options.expert_max_tokens)
            update: dict[str, object] = {}
            if options.temperature is not None:
                update["temperature"] = options.temperature
            if options.seed is not None:
                update["seed"] = options.seed
            update |= options.overrides.update("experts")
            return base.model_copy(update=update) if update else base

        return params

    def _replacements(
        self,
        queries: list[Query],
        plans: list[Recruitment],
        fmts: list[AnswerFormat],
        pool: list[str],
        items: list[StageItem],
        options: BatchOptions,
        stages: StageExecutor,
    ) -> list[StageItem]:
        """Re-ask each failed slot of the heaviest candidate that did not fail in this batch;
        the plan's notes say who replaced whom (the failure itself is noted by _collect)."""
        failed = [i for i in items if i.completion is None]
        if not failed:
            return []
        broken = {i.request.expert for i in failed}
        by_key = {q.id: (q, plan, fmt) for q, plan, fmt in zip(queries, plans, fmts, strict=True)}
        requests = []
        for item in failed:
            q, plan, fmt = by_key[item.request.key]
            ranked = sorted(plan.weights, key=lambda n: -plan.weights[n]) or pool
            candidates = [n for n in ranked if n not in broken and n in pool]
            if not candidates:
                plan.notes.append(f"experts: no candidate left to replace {item.request.expert}")
                continue
            name = candidates[item.request.slot % len(candidates)]
            plan.notes.append(f"experts: {item.request.expert} replaced by {name}")
            completion = self.registry.get(name).chat_format == "completion"
            requests.append(
                StageRequest(
                    key=q.id,
                    slot=item.request.slot,
                    expert=name,
                    prompt=expert_prompt(q.text, fmt, completion, q.question_id, q.conversation),
                )
            )
        return stages.run("experts", requests, self._expert_params(options))

    def _params(self, expert: str, max_tokens: int | None) -> GenerationParams:
        return self.registry.get(expert).generation_params(max_tokens)

    def _collect(
        self, traces: list[Trace], items: list[StageItem], fmts: list[AnswerFormat], stage: str
    ) -> None:
        by_key = {t.query_id: (t, fmt) for t, fmt in zip(traces, fmts, strict=True)}
        for item in items:
            trace, fmt = by_key[item.request.key]
            if item.completion is None:
                trace.recruitment.notes.append(
                    f"{stage}: {item.request.expert} failed: {item.error or 'no output'}"
                )
                continue
            c = item.completion
            trace.calls.append(
                ModelCall(
                    stage=stage,
                    expert=item.request.expert,
                    slot=item.request.slot,
                    text=c.text,
                    prompt_tokens=c.prompt_tokens,
                    completion_tokens=c.completion_tokens,
                    seconds=c.seconds,
                    extracted=extract(c.text, fmt),
                )
            )

    def _aggregate(
        self,
        traces: list[Trace],
        fmts: list[AnswerFormat],
        conversations: list[Conversation | None],
        options: BatchOptions,
        stages: StageExecutor,
        on_answer_text: Callable[[str, str], None] | None = None,
    ) -> None:
        policy = self.aggregators[options.aggregation]
        requests = []
        for trace, fmt, conversation in zip(traces, fmts, conversations, strict=True):
            answers = [
                ExpertAnswer(expert=c.expert, text=c.text, extracted=c.extracted)
                for c in trace.calls
                if c.stage == "experts"
            ]
            if not answers:
                trace.error = "every recruited expert failed: " + "; ".join(trace.recruitment.notes)
                continue
            agg = trace.recruitment.aggregator
            completion = agg is not None and self.registry.get(agg).chat_format == "completion"
            outcome = policy.aggregate(
                AggregationInput(
                    question=trace.question,
                    fmt=fmt,
                    answers=answers,
                    weights=trace.recruitment.weights,
                    conversation=conversation,
                ),
                completion,
            )
            trace.recruitment.notes.extend(outcome.notes)
            if outcome.prompt is not None and agg is not None:
                requests.append(StageRequest(key=trace.query_id, expert=agg, prompt=outcome.prompt))
            else:
                trace.answer = outcome.answer or ""
                trace.extracted_answer = outcome.extracted
        sent: dict[str, str] = {}  # query id -> answer text streamed so far

        def stream(request: StageRequest, text: str) -> None:
            sent[request.key] = sent.get(request.key, "") + text
            if on_answer_text is not None:
                on_answer_text(request.key, text)

        items = stages.run(
            "aggregate",
            requests,
            lambda n: self._params(n, options.aggregator_max_tokens).model_copy(
                update=options.overrides.update("aggregate")
            ),
            stream if on_answer_text is not None else None,
        )
        self._collect(traces, items, fmts, "aggregate")
        by_id = {t.query_id: t for t in traces}
        for item in items:
            trace = by_id[item.request.key]
            final = next((c for c in trace.calls if c.stage == "aggregate"), None)
            if final is not None:
                trace.answer, trace.extracted_answer = final.text, final.extracted
            else:  # the aggregator failed: fall back to a vote so the query is still answered
                outcome = self.aggregators["vote"].aggregate(
                    AggregationInput(
                        question=trace.question,
                        fmt="free",
                        answers=[
                            ExpertAnswer(expert=c.expert, text=c.text, extracted=c.extracted)
                            for c in trace.calls
                        ],
                    ),
                    False,
                )
                trace.answer, trace.extracted_answer = outcome.answer or "", outcome.extracted
                trace.recruitment.notes.append("aggregator failed: answered by vote")
        if on_answer_text is not None:  # answers no model streamed: votes and fallbacks
            for trace in traces:
                streamed = sent.get(trace.query_id, "")
                if trace.error is None and trace.answer.startswith(streamed):
                    rest = trace.answer[len(streamed) :]
                    if rest:
                        on_answer_text(trace.query_id, rest)
