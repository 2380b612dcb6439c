"""Execution: runs a batch's plans through the stages (experts -> replacements ->
aggregate) and hands every outcome to the TraceBuilder. Each step is public, so a workflow
can ask experts or aggregate without the rest."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from orchestrator.aggregators import AggregationInput, AggregatorPolicy, ExpertAnswer
from orchestrator.cascade import aggregation_input, ask_in_cascade, cascade_note
from orchestrator.experts import ExpertRegistry
from orchestrator.plan import BatchOptions, Plan
from orchestrator.prompts import expert_prompt
from orchestrator.scheduler import StageRequest
from orchestrator.stages import ParamsFor, StageExecutor, StageItem
from orchestrator.trace import BatchReport, Trace
from orchestrator.trace_builder import TraceBuilder
from workers.types import GenerationParams

AnswerTextSink = Callable[[str, str], None]  # (query id, new text of its final answer)
# The policy that answers when the aggregator model fails: it needs no model.
FALLBACK_AGGREGATION = "vote"


class PlanExecutor:
    def __init__(
        self,
        registry: ExpertRegistry,
        aggregators: dict[str, AggregatorPolicy],
        new_stages: Callable[[], StageExecutor],
    ) -> None:
        self.registry = registry
        self.aggregators = aggregators
        self.new_stages = new_stages  # one executor per batch: it keeps that batch's timings

    def execute(
        self,
        plans: list[Plan],
        options: BatchOptions,
        stages: StageExecutor,
        on_answer_text: AnswerTextSink | None = None,
        started: float | None = None,
    ) -> BatchReport:
        """Answer planned queries. `on_answer_text(query id, new text)` streams each final
        answer: the model's tokens as they are decoded where the runner streams, else the
        whole answer once it exists; the pieces of a query join to its trace's answer."""
        started = time.perf_counter() if started is None else started
        build = TraceBuilder(plans)
        sent: dict[str, str] = {}  # query id -> answer text streamed so far

        def stream(request: StageRequest, text: str) -> None:
            sent[request.key] = sent.get(request.key, "") + text
            if on_answer_text is not None:
                on_answer_text(request.key, text)

        direct = all(p.direct is not None for p in plans)
        sink = stream if on_answer_text is not None else None
        items = self.ask_experts(plans, options, stages, sink if direct else None)
        build.stage_items("experts", items)
        if options.cascade and not direct:
            calls = Counter(i.request.key for i in items)  # once, not a scan per plan
            for plan in plans:
                note = cascade_note(plan, calls[plan.query.id])
                if note:
                    build.notes(plan.query.id, [note])
        if options.replace_failed:
            build.stage_items("experts", self.replace_failed(plans, items, options, stages, build))
        self.aggregate(plans, options, stages, build, None if direct else sink)
        if on_answer_text is not None:  # answers no model streamed: votes and fallbacks
            for trace in build.traces:
                streamed = sent.get(trace.query_id, "")
                if trace.error is None and trace.answer.startswith(streamed):
                    rest = trace.answer[len(streamed) :]
                    if rest:
                        on_answer_text(trace.query_id, rest)
        return build.report(stages.timings, stages.loads, time.perf_counter() - started)

    # -- the steps ----------------------------------------------------------------------------
    def ask_experts(
        self,
        plans: list[Plan],
        options: BatchOptions,
        stages: StageExecutor,
        on_text: Callable[[StageRequest, str], None] | None = None,
    ) -> list[StageItem]:
        """Every drawn slot of every plan, as one `experts` stage; with `cascade`, in rounds
        until each plan's answer is settled (cascade.py)."""
        params = self._expert_params(plans, options)
        if options.cascade and all(p.direct is None for p in plans):
            return ask_in_cascade(plans, self.aggregators, self._expert_request, stages, params)
        requests = [
            self._expert_request(plan, slot, name)
            for plan in plans
            for slot, name in enumerate(plan.recruitment.drawn)
        ]
        return stages.run_stage("experts", requests, params, on_text)

    def replace_failed(
        self,
        plans: list[Plan],
        items: list[StageItem],
        options: BatchOptions,
        stages: StageExecutor,
        build: TraceBuilder,
    ) -> list[StageItem]:
        """Re-ask each failed slot of the heaviest candidate that did not fail in this batch."""
        failed = [i for i in items if i.completion is None]
        if not failed:
            return []
        broken = {i.request.expert for i in failed}
        by_key = {p.query.id: p for p in plans}
        requests = []
        for item in failed:
            plan, req = by_key[item.request.key], item.request
            weights = plan.recruitment.weights
            ranked = sorted(weights, key=lambda n: -weights[n]) or plan.pool
            candidates = [n for n in ranked if n not in broken and n in plan.pool]
            if not candidates:
                build.not_replaced(req.key, req.slot, req.expert)
                continue
            name = candidates[req.slot % len(candidates)]
            build.replaced(req.key, req.slot, req.expert, name)
            requests.append(self._expert_request(plan, req.slot, name))
        return stages.run_stage("experts", requests, self._expert_params(plans, options))

    def aggregate(
        self,
        plans: list[Plan],
        options: BatchOptions,
        stages: StageExecutor,
        build: TraceBuilder,
        on_text: Callable[[StageRequest, str], None] | None = None,
    ) -> None:
        """Each plan's policy merges its experts' answers: at once (a vote, a direct call),
        or through the aggregator model as one `aggregate` stage."""
        requests = []
        for plan in plans:
            trace = build.trace(plan.query.id)
            answers = _answers(trace, "experts")
            if not answers:
                build.unanswered(trace.query_id, _failure(trace, plan.direct is not None))
                continue
            if plan.direct is not None:
                build.answered(trace.query_id, answers[0].text, answers[0].extracted)
                continue
            agg = plan.aggregator
            completion = agg is not None and self.registry.get(agg).chat_format == "completion"
            outcome = self.aggregators[plan.aggregation].aggregate(
                aggregation_input(plan, answers), completion
            )
            build.notes(trace.query_id, outcome.notes)
            if outcome.prompt is not None and agg is not None:
                requests.append(StageRequest(key=trace.query_id, expert=agg, prompt=outcome.prompt))
            else:
                build.answered(trace.query_id, outcome.answer or "", outcome.extracted)
        items = stages.run_stage(
            "aggregate",
            requests,
            lambda n: self._params(n, options.aggregator_max_tokens).model_copy(
                update=options.overrides.update("aggregate")
            ),
            on_text,
        )
        build.stage_items("aggregate", items)
        for item in items:
            trace = build.trace(item.request.key)
            final = next((c for c in trace.calls if c.stage == "aggregate"), None)
            if final is not None:
                build.answered(trace.query_id, final.text, final.extracted)
                continue
            # the aggregator failed: a vote answers, so the query is still answered
            outcome = self.aggregators[FALLBACK_AGGREGATION].aggregate(
                AggregationInput(question=trace.question, fmt="free", answers=_answers(trace)),
                False,
            )
            build.answered(trace.query_id, outcome.answer or "", outcome.extracted)
            build.aggregator_failed(trace.query_id, item.request.expert, FALLBACK_AGGREGATION)

    # -- prompts and parameters ---------------------------------------------------------------
    def _expert_request(self, plan: Plan, slot: int, name: str) -> StageRequest:
        if plan.direct is not None:
            prompt = plan.direct.prompt
        else:
            q = plan.query
            completion = self.registry.get(name).chat_format == "completion"
            prompt = expert_prompt(
                q.text, plan.fmt, completion, q.question_id, q.conversation, plan.retrieval.passages
            )
        return StageRequest(key=plan.query.id, slot=slot, expert=name, prompt=prompt)

    def _expert_params(self, plans: list[Plan], options: BatchOptions) -> ParamsFor:
        direct = {p.recruitment.drawn[0]: p.direct.params for p in plans if p.direct is not None}

        def params(name: str) -> GenerationParams:
            if name in direct:
                return direct[name]
            base = self._params(name, options.expert_max_tokens)
            update: dict[str, object] = {}
            if options.temperature is not None:
                update["temperature"] = options.temperature
            if options.seed is not None:
                update["seed"] = options.seed
            update |= options.overrides.update("experts")
            return base.model_copy(update=update) if update else base

        return params

    def _params(self, expert: str, max_tokens: int | None) -> GenerationParams:
        return self.registry.get(expert).generation_params(max_tokens)


def _answers(trace: Trace, stage: str | None = None) -> list[ExpertAnswer]:
    return [
        ExpertAnswer(expert=c.expert, text=c.text, extracted=c.extracted)
        for c in trace.calls
        if stage is None or c.stage == stage
    ]


def _failure(trace: Trace, direct: bool) -> str:
    if direct:  # one expert, no replacement: its own error
        failed = next((e for e in trace.events if e.kind == "expert_failed"), None)
        return f"{failed.expert} failed: {failed.error}" if failed else "no output"
    return "every recruited expert failed: " + "; ".join(trace.recruitment.notes)
