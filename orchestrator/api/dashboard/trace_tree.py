"""One stored trace shaped as the tree the query page draws: skills -> recruitment weights ->
the experts drawn, slot by slot, each with its answers (tokens, seconds, the passages it
cites) and what happened to it (failed, replaced) -> the aggregate and the final answer;
beside it the retrieval decision with its passages, those the final answer cites marked."""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.retrieval.citations import cited
from orchestrator.trace import ModelCall, Passage, Trace, TraceEvent

EXPERT_STAGE = "experts"


@dataclass(frozen=True)
class Weight:
    expert: str
    weight: float
    global_competence: float | None
    local_suitability: float | None
    draws: int  # times it was drawn (a model can fill several slots)


@dataclass(frozen=True)
class Answer:
    call: ModelCall
    cites: list[int]  # passage numbers its text cites


@dataclass
class Slot:
    index: int
    drawn: str | None  # None: a slot only a replacement filled (should not happen)
    answers: list[Answer] = field(default_factory=list)
    events: list[TraceEvent] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return not self.answers


@dataclass(frozen=True)
class TraceTree:
    trace: Trace
    skills: list[tuple[str, float | None]]  # (skill, the tagger's similarity)
    weights: list[Weight]  # highest first
    slots: list[Slot]
    aggregate: list[Answer]  # calls after the experts' stage (the aggregator's)
    aggregate_events: list[TraceEvent]
    cited: list[Passage]  # passages the final answer cites

    @property
    def expert_tokens(self) -> tuple[int, int]:
        calls = [a.call for s in self.slots for a in s.answers]
        return sum(c.prompt_tokens for c in calls), sum(c.completion_tokens for c in calls)


def _answer(call: ModelCall, passages: list[Passage]) -> Answer:
    return Answer(call, [p.number for p in cited(call.text, passages)] if passages else [])


def trace_tree(trace: Trace) -> TraceTree:
    rec, passages = trace.recruitment, trace.retrieval.passages
    similarities = trace.tagging.similarities
    skills = [(s, similarities.get(s)) for s in trace.tagging.skills]
    names = dict.fromkeys([*rec.weights, *rec.drawn])
    weights = [
        Weight(
            expert=name,
            weight=rec.weights.get(name, 0.0),
            global_competence=rec.global_competence.get(name),
            local_suitability=rec.local_suitability.get(name),
            draws=rec.drawn.count(name),
        )
        for name in names
    ]
    weights.sort(key=lambda w: (-w.weight, w.expert))
    slots = [Slot(i, name) for i, name in enumerate(rec.drawn)]
    expert_calls = [c for c in trace.calls if c.stage == EXPERT_STAGE]
    for call in expert_calls:
        while call.slot >= len(slots):
            slots.append(Slot(len(slots), None))
        slots[call.slot].answers.append(_answer(call, passages))
    aggregate_events = []
    for event in trace.events:
        if event.stage == EXPERT_STAGE and 0 <= event.slot < len(slots):
            slots[event.slot].events.append(event)
        else:
            aggregate_events.append(event)
    return TraceTree(
        trace=trace,
        skills=skills,
        weights=weights,
        slots=slots,
        aggregate=[_answer(c, passages) for c in trace.calls if c.stage != EXPERT_STAGE],
        aggregate_events=aggregate_events,
        cited=cited(trace.answer, passages) if passages else [],
    )
