"""The batch path with scripted experts: grouping, loads per stage, aggregation, failures."""

from __future__ import annotations

import pytest

from orchestrator.errors import InputError, UnknownExpertError
from orchestrator.pipeline import BatchOptions, Query
from skills.profiles import ProfileSet, SkillScore

from .conftest import PipelineFactory, scripted_expert

MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


def _experts(n: int) -> list:
    return [
        scripted_expert(f"e{i}", default=f"e{i} thinks. The answer is ({'AB'[i % 2]}).")
        for i in range(n)
    ]


def test_a_batch_loads_each_model_once_per_stage(make_pipeline: PipelineFactory) -> None:
    pipeline, pool = make_pipeline(_experts(5))
    queries = [Query(text=f"{MC} #{i}") for i in range(40)]
    report = pipeline.run(queries, BatchOptions(k=3, aggregator="e0"))
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
    make_pipeline: PipelineFactory,
) -> None:
    experts = [scripted_expert(f"e{i}", memory_mb=100) for i in range(4)]
    pipeline, pool = make_pipeline(experts, budget_mb=150)  # room for one model at a time
    report = pipeline.run(
        [Query(text=f"{MC} {i}") for i in range(30)], BatchOptions(k=3, aggregator="e3")
    )
    stage = {t.stage: t for t in report.stages}
    assert stage["experts"].loads == stage["experts"].groups
    assert pool.stats.evictions == pool.stats.loads - 1
    assert pool.resident() == ["e3"]


def test_vote_and_weighted_vote(make_pipeline: PipelineFactory) -> None:
    experts = [
        scripted_expert("weak1", default="The answer is (A)."),
        scripted_expert("weak2", default="The answer is (A)."),
        scripted_expert("strong", default="The answer is (B)."),
    ]

    def p(score: int) -> dict[str, SkillScore]:
        return {"math": SkillScore(score=score, count=10)}

    profile = ProfileSet(name="t", experts={"weak1": p(1), "weak2": p(1), "strong": p(8)})
    pipeline, _ = make_pipeline(experts, profile=profile, skills=["math"])
    q = Query(text=MC)
    forced = BatchOptions(k=3, aggregation="vote")
    # draw until the committee is the three distinct experts is not needed: check the tally
    report = pipeline.run([q], forced)
    votes = [c.extracted for c in report.traces[0].calls]
    assert report.traces[0].extracted_answer == max(set(votes), key=votes.count)
    weighted = pipeline.run([q], BatchOptions(k=3, aggregation="weighted_vote")).traces[0]
    assert weighted.recruitment.aggregation == "weighted_vote"
    assert weighted.extracted_answer in {"A", "B"}
    assert any(n.startswith("votes:") for n in weighted.recruitment.notes)


def test_llm_aggregation_uses_the_aggregator_and_anonymises(make_pipeline: PipelineFactory) -> None:
    agg = scripted_expert("agg", default="Merged. The answer is (B).", roles=["aggregator"])
    experts = [*_experts(2), agg]
    pipeline, _ = make_pipeline(experts)
    trace = pipeline.run([Query(text=MC)], BatchOptions(k=2, aggregator="agg")).traces[0]
    final = [c for c in trace.calls if c.stage == "aggregate"]
    assert [c.expert for c in final] == ["agg"]
    assert trace.extracted_answer == "B"
    assert trace.recruitment.aggregator == "agg"


def test_a_failing_expert_leaves_the_others(make_pipeline: PipelineFactory) -> None:
    experts = [
        scripted_expert("ok", default="The answer is (C)."),
        scripted_expert("broken", options={"fail_load": True}),
    ]
    pipeline, _ = make_pipeline(experts)
    report = pipeline.run(
        [Query(text=f"{MC} {i}") for i in range(10)],
        BatchOptions(k=3, aggregation="vote", replace_failed=False),
    )
    for t in report.traces:
        if set(t.recruitment.drawn) == {"broken"}:
            assert t.error and "every recruited expert failed" in t.error
        else:
            assert t.extracted_answer == "C"
            if "broken" in t.recruitment.drawn:
                assert any("broken failed" in n for n in t.recruitment.notes)


def test_a_failed_expert_is_replaced_by_the_next_candidate(
    make_pipeline: PipelineFactory,
) -> None:
    experts = [
        scripted_expert("ok", default="The answer is (C)."),
        scripted_expert("also-ok", default="The answer is (C)."),
        scripted_expert("broken", options={"fail_load": True}),
    ]
    pipeline, _ = make_pipeline(experts)
    report = pipeline.run(
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


@pytest.mark.parametrize(
    ("text", "options", "error", "message"),
    [
        ("", BatchOptions(), InputError, "empty"),
        ("   \n", BatchOptions(), InputError, "empty"),
        ("x" * 200_000, BatchOptions(), InputError, "longer than the context of every expert"),
        ("hi", BatchOptions(experts=["nope"]), UnknownExpertError, "unknown expert 'nope'"),
        ("hi", BatchOptions(aggregation="magic"), InputError, "unknown aggregation"),
        ("hi", BatchOptions(aggregator="nope"), UnknownExpertError, "unknown expert"),
    ],
)
def test_bad_input_is_refused_before_any_model_loads(
    make_pipeline: PipelineFactory, text: str, options: BatchOptions, error: type, message: str
) -> None:
    pipeline, pool = make_pipeline(_experts(2))
    with pytest.raises(error, match=message):
        pipeline.run([Query(text=text)], options)
    assert pool.stats.loads == 0


@pytest.mark.parametrize("aggregation", ["llm", "vote"])
def test_answers_stream_per_query_and_join_to_the_stored_answer(
    make_pipeline: PipelineFactory, aggregation: str
) -> None:
    pipeline, _ = make_pipeline(_experts(3))
    pieces: dict[str, list[str]] = {}
    report = pipeline.run(
        [Query(text=f"{MC} #{i}") for i in range(4)],
        BatchOptions(k=2, aggregator="e0", aggregation=aggregation),
        lambda query_id, text: pieces.setdefault(query_id, []).append(text),
    )
    for trace in report.traces:
        mine = pieces[trace.query_id]
        assert "".join(mine) == trace.answer != ""
        # the aggregator's tokens as decoded (scripted: word by word); a vote in one piece
        assert len(mine) == (len(trace.answer.split()) if aggregation == "llm" else 1)
