"""The cascade (BatchOptions.cascade) through the real PlanExecutor with scripted experts: a
plan's drawn experts are asked in order, two in the first round and one per round after,
each round one `experts` stage grouped by model, until the policy says the answer is
settled; the answer is the whole committee's."""

from __future__ import annotations

import pytest

from orchestrator.aggregators import all_aggregators
from orchestrator.cascade import FIRST_ROUND, cascade_note
from orchestrator.execution import PlanExecutor
from orchestrator.experts import Expert, ExpertRegistry
from orchestrator.plan import BatchOptions, Plan
from orchestrator.runners import InProcessRunner
from orchestrator.stages import StageExecutor
from orchestrator.trace import BatchReport, Trace
from workers.pool import ModelPool

from .conftest import hand_plan, scripted_expert

MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


def _experts() -> list[Expert]:
    return [
        scripted_expert("b1", default="Two. The answer is (B)."),
        scripted_expert("b2", default="Surely two. The answer is (B)."),
        scripted_expert("b3", default="The answer is (B)."),
        scripted_expert("b4", default="It is (B). The answer is (B)."),
        scripted_expert("a1", default="The answer is (A)."),
        scripted_expert("a2", default="I say one. The answer is (A)."),
        # answers (A) to a question marked #split, else (B)
        scripted_expert(
            "split",
            options={
                "default": "The answer is (B).",
                "responses": {"#split": "Hm. The answer is (A)."},
            },
        ),
        scripted_expert("agg", default="Merged. The answer is (B).", roles=["aggregator"]),
        scripted_expert("broken", options={"fail_load": True}),
    ]


def _execute(
    plans: list[Plan], cascade: bool, replace_failed: bool = False
) -> tuple[BatchReport, ModelPool]:
    registry = ExpertRegistry(_experts())
    pool = ModelPool(10_000)
    runner = InProcessRunner(pool)
    executor = PlanExecutor(registry, all_aggregators(), lambda: StageExecutor(runner, registry))
    options = BatchOptions(k=3, aggregation="vote", cascade=cascade, replace_failed=replace_failed)
    # fresh plans each time: a trace shares its plan's recruitment (notes are added to it)
    plans = [p.model_copy(deep=True) for p in plans]
    return executor.execute(plans, options, executor.new_stages()), pool


def _traces(plans: list[Plan], cascade: bool, replace_failed: bool = False) -> list[Trace]:
    return _execute(plans, cascade, replace_failed)[0].traces


def _expert_calls(trace: Trace) -> list[tuple[str, int]]:
    return [(c.expert, c.slot) for c in trace.calls if c.stage == "experts"]


def _cascade_notes(trace: Trace) -> list[str]:
    return [n for n in trace.recruitment.notes if n.startswith("cascade:")]


def _expert_stages(report: BatchReport) -> list[int]:
    """Each `experts` stage's number of model groups, in order."""
    return [t.groups for t in report.stages if t.stage == "experts"]


def test_agreeing_first_round_settles_and_answers_as_the_whole_committee() -> None:
    assert FIRST_ROUND == 2
    plan = hand_plan(["b1", "b2", "b3"])
    (full,) = _traces([plan], cascade=False)
    report, pool = _execute([plan], cascade=True)
    (trace,) = report.traces
    assert _expert_calls(trace) == [("b1", 0), ("b2", 1)]  # b3 never asked
    assert "b3" not in pool.stats.loads_by_model
    assert _cascade_notes(trace) == ["cascade: settled after 2 of 3 experts"]
    assert (trace.answer, trace.extracted_answer) == (full.answer, full.extracted_answer)
    assert trace.extracted_answer == "B" and trace.answer == "Two. The answer is (B)."
    assert trace.recruitment.drawn == ["b1", "b2", "b3"]  # the plan is left as drawn
    assert _expert_stages(report) == [2]  # one round: b1 and b2
    # the whole committee asked everyone, in one stage, and says nothing of a cascade
    assert _expert_calls(full) == [("b1", 0), ("b2", 1), ("b3", 2)]
    assert _cascade_notes(full) == []


def test_a_split_first_round_asks_the_third_expert() -> None:
    plan = hand_plan(["b1", "a1", "b2"])
    (full,) = _traces([plan], cascade=False)
    report, _ = _execute([plan], cascade=True)
    (trace,) = report.traces
    assert _expert_calls(trace) == [("b1", 0), ("a1", 1), ("b2", 2)]
    assert _cascade_notes(trace) == []  # everyone was asked: nothing to say
    assert trace.extracted_answer == full.extracted_answer == "B"
    assert trace.answer == full.answer
    assert _expert_stages(report) == [2, 1]  # round 1: b1 and a1; round 2: b2


def test_a_longer_committee_stops_as_soon_as_the_lead_is_out_of_reach() -> None:
    # B, B | 2 to come: 2 is not > 2; + B | 1 to come: 3 > 1, settled after 3 of 4 (a2 unasked)
    plan = hand_plan(["b1", "b2", "b3", "a2"])
    (full,) = _traces([plan], cascade=False)
    report, pool = _execute([plan], cascade=True)
    (trace,) = report.traces
    assert _expert_calls(trace) == [("b1", 0), ("b2", 1), ("b3", 2)]
    assert _cascade_notes(trace) == ["cascade: settled after 3 of 4 experts"]
    assert "a2" not in pool.stats.loads_by_model
    assert trace.answer == full.answer and trace.extracted_answer == full.extracted_answer
    assert _expert_stages(report) == [2, 1]


def test_llm_aggregation_is_never_settled_so_every_expert_is_asked() -> None:
    plan = hand_plan(["b1", "b2", "b3"], aggregation="llm", aggregator="agg")
    (full,) = _traces([plan], cascade=False)
    report, _ = _execute([plan], cascade=True)
    (trace,) = report.traces
    assert _expert_calls(trace) == [("b1", 0), ("b2", 1), ("b3", 2)]
    assert _cascade_notes(trace) == []
    assert [c.expert for c in trace.calls if c.stage == "aggregate"] == ["agg"]
    assert trace.answer == full.answer == "Merged. The answer is (B)."
    assert sum(_expert_stages(report)) == 3  # every model asked, once


@pytest.mark.parametrize("aggregation", ["weighted_vote", "logodds_vote", "learned"])
def test_the_other_voting_policies_settle_too(aggregation: str) -> None:
    # no expected accuracies nor fitted weights: logodds_vote and learned are plain votes;
    # weighted_vote: lead 0.4 + 0.4 against 0.1 still to come
    plan = hand_plan(["b1", "b2", "a1"], aggregation=aggregation, b1=0.4, b2=0.4, a1=0.1)
    (full,) = _traces([plan], cascade=False)
    (trace,) = _traces([plan], cascade=True)
    assert _expert_calls(trace) == [("b1", 0), ("b2", 1)]
    assert _cascade_notes(trace) == ["cascade: settled after 2 of 3 experts"]
    assert trace.extracted_answer == full.extracted_answer == "B"


def test_rounds_are_separate_stages_each_grouped_by_model() -> None:
    # the same four experts for four queries; "#split" questions get (A) from `split`
    drawn = ["b1", "split", "b2", "b3"]
    plans = [
        hand_plan(drawn, text=f"{MC} #settle {i}")
        if i % 2 == 0
        else hand_plan(drawn, text=f"{MC} #split")
        for i in range(4)
    ]
    (full_report, _) = _execute(plans, cascade=False)
    report, pool = _execute(plans, cascade=True)
    # #settle: B, B | 2 to come -> + B (b2): 3 > 1, settled after 3 of 4
    # #split:  B, A | 2 to come -> + B: 2 - 1 is not > 1 -> + B (b3): everyone asked
    for i, (trace, full) in enumerate(zip(report.traces, full_report.traces, strict=True)):
        assert trace.extracted_answer == full.extracted_answer == "B"
        assert trace.answer == full.answer
        if i % 2 == 0:
            assert [e for e, _ in _expert_calls(trace)] == ["b1", "split", "b2"]
            assert _cascade_notes(trace) == ["cascade: settled after 3 of 4 experts"]
        else:
            assert [e for e, _ in _expert_calls(trace)] == drawn
            assert _cascade_notes(trace) == []
    # round 1: every query's b1 and split, one group per model; round 2: b2; round 3: b3 for
    # the #split queries only
    experts = [t for t in report.stages if t.stage == "experts"]
    assert [t.groups for t in experts] == [2, 1, 1]
    assert [t.loads for t in experts] == [2, 1, 1]  # each model loaded once, in its round
    assert [(ld.stage, ld.expert) for ld in report.loads] == [
        ("experts", "b1"),
        ("experts", "split"),
        ("experts", "b2"),
        ("experts", "b3"),
    ]
    assert all(v == 1 for v in pool.stats.loads_by_model.values())
    assert sum(len(_expert_calls(t)) for t in report.traces) == 3 + 4 + 3 + 4
    # without the cascade: all 16 calls in one stage of four groups
    assert _expert_stages(full_report) == [4]
    assert sum(len(_expert_calls(t)) for t in full_report.traces) == 16


def test_plans_settle_independently_in_one_batch() -> None:
    plans = [
        hand_plan(["b1", "b2", "b3"]),
        hand_plan(["a1", "b1", "b2"]),
        hand_plan(["a1", "a2", "b3"]),
    ]
    report, _ = _execute(plans, cascade=True)
    settled, split, agreed = report.traces
    assert len(_expert_calls(settled)) == 2 and settled.extracted_answer == "B"
    assert len(_expert_calls(split)) == 3 and split.extracted_answer == "B"
    assert len(_expert_calls(agreed)) == 2 and agreed.extracted_answer == "A"
    assert _expert_stages(report) == [4, 1]  # round 1: b1, b2, a1, a2; round 2: b2 alone


def test_cascade_off_changes_nothing() -> None:
    plans = [hand_plan(["b1", "b2", "b3"]), hand_plan(["b1", "a1", "b2"])]
    report, _ = _execute(plans, cascade=False)
    assert _expert_stages(report) == [4]  # b1, b2, b3, a1 in one stage
    for trace in report.traces:
        assert len(_expert_calls(trace)) == 3
        assert _cascade_notes(trace) == []
    assert [t.extracted_answer for t in report.traces] == ["B", "B"]


def test_a_plan_with_one_expert_asks_it_once() -> None:
    report, _ = _execute([hand_plan(["b1"])], cascade=True)
    (trace,) = report.traces
    assert _expert_calls(trace) == [("b1", 0)]
    assert _cascade_notes(trace) == [] and trace.extracted_answer == "B"


def test_a_failed_expert_is_not_a_vote_and_the_cascade_goes_on() -> None:
    # broken fails: B alone with one to come is not settled, so b2 is asked
    report, _ = _execute([hand_plan(["b1", "broken", "b2"])], cascade=True)
    (trace,) = report.traces
    assert _expert_calls(trace) == [("b1", 0), ("b2", 2)]
    assert [e.kind for e in trace.events] == ["expert_failed"]
    assert _cascade_notes(trace) == []
    assert trace.extracted_answer == "B"


def test_cascade_note() -> None:
    plan = hand_plan(["b1", "b2", "b3"])
    assert cascade_note(plan, 2) == "cascade: settled after 2 of 3 experts"
    assert cascade_note(plan, 3) is None


def test_a_replaced_failure_does_not_change_what_the_cascade_answers() -> None:
    # weighted_vote, weights a1 0.4, b2 0.3, b1 0.2, broken 0.1; b2 is in the pool, not drawn.
    # Whole committee: a1 A 0.4, broken fails, b1 B 0.2, and broken's slot 1 goes to the
    # second-heaviest candidate that did not fail (a1, b2, b1 -> b2): B 0.2 + 0.3 = 0.5 > A 0.4.
    # Cascade: a1 A 0.4, broken fails; settled, as 0.4 > b1's 0.2; b2 then replaces broken:
    # A 0.4 > B 0.3, so A.
    plan = hand_plan(
        ["a1", "broken", "b1"],
        aggregation="weighted_vote",
        pool=["a1", "b1", "b2", "broken"],
        a1=0.4,
        b2=0.3,
        b1=0.2,
        broken=0.1,
    )
    (full,) = _traces([plan], cascade=False, replace_failed=True)
    (trace,) = _traces([plan], cascade=True, replace_failed=True)
    assert [e for e, _ in _expert_calls(full)] == ["a1", "b1", "b2"]
    assert full.extracted_answer == "B"
    assert trace.extracted_answer == full.extracted_answer
