"""The answering service with scripted experts: grouping, loads per stage, aggregation,
failures, streaming, bad input."""

from __future__ import annotations

import pytest

from orchestrator.answering import AnsweringService
from orchestrator.errors import InputError, UnknownExpertError
from orchestrator.plan import BatchOptions, DirectPrompt, Query
from workers.types import GenerationParams, Prompt

from .conftest import AnsweringFactory, scripted_expert

MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


def _opts(**kw: object) -> BatchOptions:
    return BatchOptions.model_validate({"k": 3, "aggregation": "llm", **kw})


OPTS = _opts()


def _experts(n: int) -> list:
    return [
        scripted_expert(f"e{i}", default=f"e{i} thinks. The answer is ({'AB'[i % 2]}).")
        for i in range(n)
    ]


def test_a_batch_loads_each_model_once_per_stage(make_answering: AnsweringFactory) -> None:
    answering, pool = make_answering(_experts(5))
    queries = [Query(text=f"{MC} #{i}") for i in range(40)]
    report = answering.answer(queries, BatchOptions(k=3, aggregation="llm", aggregator="e0"))
    stage = {t.stage: t for t in report.stages}
    distinct = {name for t in report.traces for name in t.recruitment.drawn}
    assert stage["experts"].groups == len(distinct)
    assert stage["experts"].loads == len(distinct)
    assert stage["aggregate"].groups == 1
    assert stage["aggregate"].loads == 0  # e0 is still resident from the expert stage
    assert pool.stats.loads == len(distinct)
    assert all(v == 1 for v in pool.stats.loads_by_model.values())
    assert all(len([c for c in t.calls if c.stage == "experts"]) == 3 for t in report.traces)
    assert all(t.answer for t in report.traces)


def test_a_small_budget_evicts_and_reloads_only_across_stages(
    make_answering: AnsweringFactory,
) -> None:
    experts = [scripted_expert(f"e{i}", memory_mb=100) for i in range(4)]
    answering, pool = make_answering(experts, budget_mb=150)  # room for one model at a time
    report = answering.answer(
        [Query(text=f"{MC} {i}") for i in range(30)],
        BatchOptions(k=3, aggregation="llm", aggregator="e3"),
    )
    stage = {t.stage: t for t in report.stages}
    assert stage["experts"].loads == stage["experts"].groups
    assert pool.stats.evictions == pool.stats.loads - 1
    assert pool.resident() == ["e3"]


def test_llm_aggregation_uses_the_aggregator_and_anonymises(
    make_answering: AnsweringFactory,
) -> None:
    agg = scripted_expert("agg", default="Merged. The answer is (B).", roles=["aggregator"])
    experts = [*_experts(2), agg]
    answering, _ = make_answering(experts)
    trace = answering.answer(
        [Query(text=MC)], BatchOptions(k=2, aggregation="llm", aggregator="agg")
    ).traces[0]
    final = [c for c in trace.calls if c.stage == "aggregate"]
    assert [c.expert for c in final] == ["agg"]
    assert trace.extracted_answer == "B"
    assert trace.recruitment.aggregator == "agg"


def test_a_failed_expert_is_replaced_by_the_next_candidate(
    make_answering: AnsweringFactory,
) -> None:
    experts = [
        scripted_expert("ok", default="The answer is (C)."),
        scripted_expert("also-ok", default="The answer is (C)."),
        scripted_expert("broken", options={"fail_load": True}),
    ]
    answering, _ = make_answering(experts)
    report = answering.answer(
        [Query(text=f"{MC} {i}") for i in range(12)], BatchOptions(k=3, aggregation="vote")
    )
    with_broken = [t for t in report.traces if "broken" in t.recruitment.drawn]
    assert with_broken, "the seed draws the broken expert somewhere"
    for t in report.traces:
        assert t.error is None and t.extracted_answer == "C"
        calls = [c for c in t.calls if c.stage == "experts"]
        assert len(calls) == 3 and "broken" not in {c.expert for c in calls}
    for t in with_broken:
        replaced = [n for n in t.recruitment.notes if n.startswith("experts: broken replaced by")]
        assert len(replaced) == t.recruitment.drawn.count("broken")
        assert any("broken failed" in n for n in t.recruitment.notes)
        # the same, as the structured events statistics count
        slots = [s for s, name in enumerate(t.recruitment.drawn) if name == "broken"]
        failed = [(e.slot, e.expert) for e in t.events if e.kind == "expert_failed"]
        assert failed == [(s, "broken") for s in slots]
        by = {e.slot: e.replacement for e in t.events if e.kind == "replaced"}
        assert sorted(by) == slots and set(by.values()) <= {"ok", "also-ok"}


@pytest.mark.parametrize(
    ("text", "options", "error", "message"),
    [
        ("", OPTS, InputError, "empty"),
        ("   \n", OPTS, InputError, "empty"),
        ("x" * 200_000, OPTS, InputError, "longer than the context of every expert"),
        ("hi", _opts(experts=["nope"]), UnknownExpertError, "unknown expert 'nope'"),
        ("hi", _opts(aggregation="magic"), InputError, "unknown aggregation"),
        ("hi", _opts(aggregator="nope"), UnknownExpertError, "unknown expert"),
        ("hi", _opts(retrieval="auto"), InputError, "unknown retrieval gate 'auto'"),
    ],
)
def test_bad_input_is_refused_before_any_model_loads(
    make_answering: AnsweringFactory, text: str, options: BatchOptions, error: type, message: str
) -> None:
    answering, pool = make_answering(_experts(2))
    with pytest.raises(error, match=message):
        answering.answer([Query(text=text)], options)
    assert pool.stats.loads == 0


@pytest.mark.parametrize("aggregation", ["llm", "vote"])
def test_answers_stream_per_query_and_join_to_the_stored_answer(
    make_answering: AnsweringFactory, aggregation: str
) -> None:
    answering, _ = make_answering(_experts(3))
    pieces: dict[str, list[str]] = {}
    report = answering.answer(
        [Query(text=f"{MC} #{i}") for i in range(4)],
        BatchOptions(k=2, aggregator="e0", aggregation=aggregation),
        lambda query_id, text: pieces.setdefault(query_id, []).append(text),
    )
    for trace in report.traces:
        mine = pieces[trace.query_id]
        assert "".join(mine) == trace.answer != ""
        # the aggregator's tokens as decoded (scripted: word by word); a vote in one piece
        assert len(mine) == (len(trace.answer.split()) if aggregation == "llm" else 1)


def test_answering_saves_and_counts_each_batch_once(make_answering: AnsweringFactory) -> None:
    built, _ = make_answering(_experts(2))
    saved: list[str] = []
    counted: list[str] = []
    answering = AnsweringService(
        built.planner,
        built.executor,
        save=lambda r: saved.append(r.batch_id),
        observe=lambda r: counted.append(r.batch_id),
    )
    report = answering.answer([Query(text=MC)], _opts(k=2, aggregation="vote"), notes=["n1"])
    assert saved == counted == [report.batch_id]
    assert report.traces[0].recruitment.notes[-1] == "n1"
    answering.answer([Query(text=MC)], _opts(k=2, aggregation="vote"), record=False)
    assert saved == counted == [report.batch_id]  # the caller stores and counts that one


def test_a_direct_call_is_a_one_expert_plan(make_answering: AnsweringFactory) -> None:
    answering, pool = make_answering(_experts(3))
    direct = DirectPrompt(
        prompt=Prompt.user("Say hi."), params=GenerationParams(max_tokens=8, temperature=0.0)
    )
    pieces: list[str] = []
    report = answering.answer_direct(
        Query(text="Say hi."), "e1", direct, lambda _q, text: pieces.append(text), ["chat: x"]
    )
    (trace,) = report.traces
    assert [c.expert for c in trace.calls] == ["e1"]
    assert trace.answer == trace.calls[0].text == "e1 thinks. The answer is (B)."
    assert "".join(pieces) == trace.answer
    assert trace.tagging.method == trace.recruitment.recruiter == "direct"
    assert trace.recruitment.aggregation == "direct" and trace.recruitment.drawn == ["e1"]
    assert trace.recruitment.notes == ["direct call: 1 message(s) to e1", "chat: x"]
    assert pool.stats.loads == 1
