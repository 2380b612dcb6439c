"""StageExecutor over scripted experts: items in request order, timings and model loads
recorded, failures carried per item, streaming to `on_text`."""

from __future__ import annotations

from orchestrator.experts import Expert, ExpertRegistry
from orchestrator.runners import InProcessRunner, Runner
from orchestrator.runners.base import GroupTextSink
from orchestrator.scheduler import Group, GroupResult, StageRequest
from orchestrator.stages import StageExecutor, StageItem
from tests.orchestrator.conftest import scripted_expert
from workers.backends.scripted import ScriptedBackend
from workers.pool import ModelPool
from workers.types import GenerationParams, Prompt

QUESTIONS = ("q1", "q2", "q3")


def _expert(name: str, n_ctx: int = 2048, **options: object) -> Expert:
    """Answers "<name> on <question>" to a prompt naming the question."""
    responses = {f"<{q}>": f"{name} on {q}" for q in QUESTIONS}
    return scripted_expert(name, n_ctx=n_ctx, options={"responses": responses, **options})


def _request(key: str, expert: str, slot: int = 0, words: int = 0) -> StageRequest:
    padding = " pad" * words
    return StageRequest(key=key, slot=slot, expert=expert, prompt=Prompt.user(f"<{key}>{padding}"))


def _executor(experts: list[Expert], runner: Runner | None = None) -> StageExecutor:
    registry = ExpertRegistry(experts)
    return StageExecutor(runner or InProcessRunner(ModelPool(10_000)), registry)


def _params(_: str) -> GenerationParams:
    return GenerationParams(max_tokens=16)


def _texts(items: list[StageItem]) -> list[str | None]:
    return [i.completion.text if i.completion else None for i in items]


def test_items_come_back_in_request_order_across_experts() -> None:
    stages = _executor([_expert("a"), _expert("b"), _expert("c")])
    requests = [
        _request("q1", "b"),
        _request("q1", "a"),
        _request("q2", "c"),
        _request("q2", "a", slot=1),
        _request("q3", "b", slot=1),
        _request("q3", "a", slot=2),
    ]
    items = stages.run_stage("experts", requests, _params)
    assert [i.request for i in items] == requests
    assert _texts(items) == ["b on q1", "a on q1", "c on q2", "a on q2", "b on q3", "a on q3"]
    assert [i.error for i in items] == [None] * 6


def test_timings_and_loads_are_recorded_per_stage() -> None:
    stages = _executor([_expert("a", load_delay_s=0.05), _expert("b"), _expert("c")])
    requests = [_request("q1", "c"), _request("q1", "a"), _request("q2", "a")]
    stages.run_stage("experts", requests, _params)
    # a has two requests, so its group runs (and loads) first
    assert [(m.stage, m.expert) for m in stages.loads] == [("experts", "a"), ("experts", "c")]
    assert stages.loads[0].seconds >= 0.05
    (timing,) = stages.timings
    assert (timing.stage, timing.groups, timing.loads) == ("experts", 2, 2)
    assert timing.load_seconds == sum(m.seconds for m in stages.loads)
    assert timing.seconds >= timing.load_seconds

    # the models stay resident: a second stage loads only the one it has not used yet
    stages.run_stage("aggregate", [_request("q1", "a"), _request("q1", "b")], _params)
    assert [(m.stage, m.expert) for m in stages.loads[2:]] == [("aggregate", "b")]
    assert [(t.stage, t.groups, t.loads) for t in stages.timings] == [
        ("experts", 2, 2),
        ("aggregate", 2, 1),
    ]


def test_no_requests_run_nothing_and_record_nothing() -> None:
    stages = _executor([_expert("a")])
    assert stages.run_stage("experts", [], _params) == []
    assert stages.timings == []
    assert stages.loads == []


def test_the_params_of_each_expert_reach_its_group() -> None:
    stages = _executor([scripted_expert("a", options={"echo": "params"}), scripted_expert("b")])
    budgets = {"a": 7, "b": 3}
    seen: list[str] = []

    def params_for(name: str) -> GenerationParams:
        seen.append(name)
        return GenerationParams(max_tokens=budgets[name], temperature=0.25)

    items = stages.run_stage("experts", [_request("q1", "a"), _request("q1", "b")], params_for)
    assert sorted(seen) == ["a", "b"]  # once per expert, not per request
    echoed = items[0].completion
    assert echoed is not None
    assert GenerationParams.model_validate_json(echoed.text).max_tokens == 7
    assert _texts(items)[1] == "The answer is"  # b's default answer cut at 3 tokens


class WordContext(ScriptedBackend):
    """Counts a prompt's words as its tokens, so a test can overflow the context."""

    def fits(self, prompt: Prompt) -> bool:
        return sum(len(m.content.split()) for m in prompt.messages) <= self.spec.n_ctx


def test_failed_items_carry_the_error_and_the_others_still_answer() -> None:
    experts = [_expert("a"), _expert("broken", fail_load=True), _expert("small", n_ctx=64)]
    runner = InProcessRunner(ModelPool(10_000, factory=WordContext))
    stages = _executor(experts, runner)
    requests = [
        _request("q1", "broken"),
        _request("q1", "a"),
        _request("q1", "small", words=80),
        _request("q2", "small"),
        _request("q2", "broken", slot=1),
    ]
    items = stages.run_stage("experts", requests, _params)
    assert _texts(items) == [None, "a on q1", None, "small on q2", None]
    assert [i.error for i in items] == [
        "model 'scripted/broken' for expert 'broken' failed",
        None,
        "prompt exceeds the context of 64 tokens of expert small",
        None,
        "model 'scripted/broken' for expert 'broken' failed",
    ]
    assert sorted(m.expert for m in stages.loads) == ["a", "small"]  # broken never loaded
    assert stages.timings[0].loads == 2


class WholeTextRunner(Runner):
    """A runner that cannot stream: it returns whole completions only (as CeleryRunner)."""

    streams = False

    def __init__(self, inner: Runner) -> None:
        self.inner = inner
        self.sinks: list[GroupTextSink | None] = []

    def run_groups(
        self, groups: list[Group], on_text: GroupTextSink | None = None
    ) -> list[GroupResult]:
        self.sinks.append(on_text)
        return self.inner.run_groups(groups)


def test_on_text_gets_each_whole_completion_once_from_a_non_streaming_runner() -> None:
    runner = WholeTextRunner(InProcessRunner(ModelPool(10_000)))
    stages = _executor([_expert("a"), _expert("b"), _expert("broken", fail_load=True)], runner)
    requests = [
        _request("q1", "a"),
        _request("q2", "b"),
        _request("q3", "a"),
        _request("q1", "broken"),
    ]
    calls: list[tuple[str, str, str]] = []
    stages.run_stage(
        "experts", requests, _params, lambda r, text: calls.append((r.key, r.expert, text))
    )
    assert runner.sinks == [None]  # nothing to stream through
    assert sorted(calls) == [
        ("q1", "a", "a on q1"),
        ("q2", "b", "b on q2"),
        ("q3", "a", "a on q3"),
    ]  # the failed request is not sent


def test_a_streaming_runner_hands_out_pieces_that_join_to_each_completion() -> None:
    stages = _executor([_expert("a"), _expert("b")])
    requests = [_request("q1", "a"), _request("q2", "b"), _request("q3", "a")]
    pieces: dict[tuple[str, str], list[str]] = {}

    def on_text(request: StageRequest, text: str) -> None:
        pieces.setdefault((request.key, request.expert), []).append(text)

    items = stages.run_stage("experts", requests, _params, on_text)
    joined = {k: "".join(v) for k, v in pieces.items()}
    assert joined == {("q1", "a"): "a on q1", ("q2", "b"): "b on q2", ("q3", "a"): "a on q3"}
    assert pieces[("q1", "a")] == ["a", " on", " q1"]  # word by word, not whole
    assert _texts(items) == ["a on q1", "b on q2", "a on q3"]


def test_a_failing_reader_does_not_fail_the_stage() -> None:
    def on_text(request: StageRequest, text: str) -> None:
        raise RuntimeError("the client went away")

    # streamed as decoded, and handed out whole by a runner that cannot stream
    for runner in (None, WholeTextRunner(InProcessRunner(ModelPool(10_000)))):
        stages = _executor([_expert("a")], runner)
        items = stages.run_stage("experts", [_request("q1", "a")], _params, on_text)
        assert _texts(items) == ["a on q1"]
        assert items[0].error is None
