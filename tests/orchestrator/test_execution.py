"""PlanExecutor on hand-made plans: the committee is fixed, so every outcome is exact."""

from __future__ import annotations

from orchestrator.aggregators import all_aggregators
from orchestrator.execution import PlanExecutor
from orchestrator.experts import Expert, ExpertRegistry
from orchestrator.plan import BatchOptions, Plan
from orchestrator.runners import InProcessRunner
from orchestrator.stages import StageExecutor
from orchestrator.trace import BatchReport
from workers.pool import ModelPool

from .conftest import hand_plan, scripted_expert

MC = "What is 1 + 1? The options are: (A) 1 (B) 2 (C) 3"


def _registry() -> ExpertRegistry:
    experts: list[Expert] = [
        scripted_expert("weak1", default="The answer is (A)."),
        scripted_expert("weak2", default="The answer is (A)."),
        scripted_expert("strong", default="The answer is (B)."),
        scripted_expert("broken", options={"fail_load": True}),
    ]
    return ExpertRegistry(experts)


def _execute(plans: list[Plan], replace_failed: bool = False) -> BatchReport:
    registry = _registry()
    runner = InProcessRunner(ModelPool(10_000))
    executor = PlanExecutor(registry, all_aggregators(), lambda: StageExecutor(runner, registry))
    options = BatchOptions(k=3, aggregation="vote", replace_failed=replace_failed)
    return executor.execute(plans, options, executor.new_stages())


def test_vote_follows_the_majority_and_weighted_vote_the_weights() -> None:
    committee = ["weak1", "weak2", "strong"]
    weights = {"weak1": 0.1, "weak2": 0.1, "strong": 0.8}
    voted, weighted = _execute(
        [hand_plan(committee, "vote", **weights), hand_plan(committee, "weighted_vote", **weights)]
    ).traces
    assert (voted.extracted_answer, voted.answer) == ("A", "The answer is (A).")
    assert "votes: A=2, B=1" in voted.recruitment.notes
    assert (weighted.extracted_answer, weighted.answer) == ("B", "The answer is (B).")
    assert "votes: A=0.2, B=0.8" in weighted.recruitment.notes
    assert [c.extracted for c in voted.calls] == ["A", "A", "B"]


def test_a_failing_expert_leaves_the_others() -> None:
    mixed, alone = _execute(
        [hand_plan(["strong", "broken", "strong"], "vote"), hand_plan(["broken"], "vote")]
    ).traces
    assert mixed.error is None and mixed.extracted_answer == "B"
    assert [(c.expert, c.slot) for c in mixed.calls] == [("strong", 0), ("strong", 2)]
    assert [(e.kind, e.expert, e.slot) for e in mixed.events] == [("expert_failed", "broken", 1)]
    assert any("broken failed" in n for n in mixed.recruitment.notes)
    assert alone.calls == [] and alone.answer == ""
    assert alone.error is not None and alone.error.startswith("every recruited expert failed")


def test_a_failed_aggregator_falls_back_to_a_vote_and_says_so() -> None:
    (trace,) = _execute([hand_plan(["weak1", "weak2", "strong"], "llm", "broken")]).traces
    assert trace.error is None and trace.extracted_answer == "A"
    kinds = [(e.kind, e.stage, e.expert, e.replacement) for e in trace.events]
    assert kinds == [
        ("expert_failed", "aggregate", "broken", None),
        ("aggregator_failed", "aggregate", "broken", "vote"),
    ]
    assert trace.recruitment.notes[-1] == "aggregator failed: answered by vote"


def test_without_a_candidate_left_the_failure_is_recorded() -> None:
    (trace,) = _execute([hand_plan(["broken", "weak1"], "vote")], replace_failed=True).traces
    # the pool is {broken, weak1}; weak1 replaces broken (the only candidate that did not fail)
    assert [(e.kind, e.expert, e.replacement) for e in trace.events] == [
        ("expert_failed", "broken", None),
        ("replaced", "broken", "weak1"),
    ]
    assert sorted((c.expert, c.slot) for c in trace.calls) == [("weak1", 0), ("weak1", 1)]
    (alone,) = _execute([hand_plan(["broken"], "vote")], replace_failed=True).traces
    assert [e.kind for e in alone.events] == ["expert_failed", "not_replaced"]
