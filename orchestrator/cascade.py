"""The cascade: a plan's experts are asked in recruitment order (the `ranked` recruiter puts
the strongest first), a round at a time, and a query stops asking as soon as its aggregation
policy says the answers still to come cannot change its answer (`AggregatorPolicy.settled`).
For the voting policies that bound is exact, so a cascade answers what the whole committee
would have, with fewer calls. Each round is one `experts` stage, grouped by model as ever."""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.aggregators import AggregationInput, AggregatorPolicy, ExpertAnswer
from orchestrator.answers import extract
from orchestrator.plan import Plan
from orchestrator.scheduler import StageRequest
from orchestrator.stages import ParamsFor, StageExecutor, StageItem

# experts asked in the first round: one answer alone is rarely settled
FIRST_ROUND = 2

RequestFor = Callable[[Plan, int, str], StageRequest]  # (plan, slot, expert) -> request


def aggregation_input(plan: Plan, answers: list[ExpertAnswer]) -> AggregationInput:
    """What a plan's policy aggregates: its answers and what the plan knows of the experts."""
    return AggregationInput(
        question=plan.query.text,
        fmt=plan.fmt,
        answers=answers,
        weights=plan.recruitment.weights,
        conversation=plan.query.conversation,
        expected_accuracy=plan.recruitment.expected_accuracy,
        skills=plan.tagging.skills,
        stacker=plan.stacker,
    )


def ask_in_cascade(
    plans: list[Plan],
    policies: dict[str, AggregatorPolicy],
    request_for: RequestFor,
    stages: StageExecutor,
    params: ParamsFor,
) -> list[StageItem]:
    """Every stage item of every round, in order."""
    asked = dict.fromkeys((p.query.id for p in plans), 0)
    # a failed slot is re-asked of another expert after the cascade (replace_failed), an
    # answer `settled` could not allow for: such a plan asks all its experts
    failed: set[str] = set()
    answers: dict[str, list[ExpertAnswer]] = {p.query.id: [] for p in plans}
    active = [p for p in plans if p.recruitment.drawn]
    items: list[StageItem] = []
    size = FIRST_ROUND
    while active:
        requests: list[StageRequest] = []
        for plan in active:
            start = asked[plan.query.id]
            # a policy that can never settle (an LLM aggregator), or a plan with a failed slot,
            # asks everyone left at once
            settles = can_settle(policies[plan.aggregation]) and plan.query.id not in failed
            step = size if settles else len(plan.recruitment.drawn)
            names = plan.recruitment.drawn[start : start + step]
            requests.extend(request_for(plan, slot, n) for slot, n in enumerate(names, start))
            asked[plan.query.id] = start + len(names)
        by_id = {p.query.id: p for p in active}
        for item in stages.run_stage("experts", requests, params):
            items.append(item)
            if item.completion is None:
                failed.add(item.request.key)
            else:
                plan = by_id[item.request.key]
                text = item.completion.text
                answers[plan.query.id].append(
                    ExpertAnswer(
                        expert=item.request.expert, text=text, extracted=extract(text, plan.fmt)
                    )
                )
        still = []
        for plan in active:
            remaining = plan.recruitment.drawn[asked[plan.query.id] :]
            if not remaining:
                continue
            if plan.query.id in failed:
                still.append(plan)
                continue
            policy = policies[plan.aggregation]
            if not policy.settled(aggregation_input(plan, answers[plan.query.id]), remaining):
                still.append(plan)
        active, size = still, 1
    return items


def can_settle(policy: AggregatorPolicy) -> bool:
    """Whether the policy overrides `settled` (the base class never settles)."""
    return type(policy).settled is not AggregatorPolicy.settled


def cascade_note(plan: Plan, calls: int) -> str | None:
    """The trace's note when the cascade stopped before the last recruited expert."""
    drawn = len(plan.recruitment.drawn)
    if calls >= drawn:
        return None
    return f"cascade: settled after {calls} of {drawn} experts"
