"""`--workflows` in eval: the config refuses bad entries before anything is written, and a
workflow stream runs the real research workflow (real engine, run store on SQLite, answering
service) over scripted experts, graded and costed per item, resumed without rerunning an
item, a failed or refused run a wrong row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.benchmarks import BenchItem
from orchestrator.errors import ConfigError, InputError
from orchestrator.eval.config import EvalConfig, workflow_stream_name
from orchestrator.eval.runner import EvalRun
from orchestrator.eval.streams import StreamStats
from orchestrator.eval.workflow_stream import WorkflowStream
from orchestrator.factory import Deployment
from orchestrator.settings import Settings
from orchestrator.taggers import Tagger
from tests.orchestrator.conftest import FixedTagger

PLAN = {
    "questions": [
        {"type": "question", "description": "How dense is ice?"},
        {"type": "question", "description": "How dense is water?"},
    ]
}
ROLE_REPLIES = {  # research.yaml's roles, played by a scripted smollm2-135m
    "Break this hard question": json.dumps(PLAN),
    "How well do the sub-questions cover": json.dumps({"score": 0.9, "reason": "covers it"}),
    "Check this answer to a question": json.dumps(
        {"consistency": 0.9, "support": 0.9, "reason": "fine"}
    ),
    "Here are numbered answers": "Ice is lighter [1][2]. The answer is (B).",
}
QUESTION = "Why does ice float? (A) it is heavier (B) it is less dense (C) magic"


class ScriptedDeployment(Deployment):
    """The real deployment with a fixed tagger: no embedding model needed."""

    def tagger(self, name: str | None = None) -> Tagger:
        return FixedTagger([])


def deployment(
    tmp: Path, planner_reply: str | None = None, roles: bool = True, **settings: Any
) -> Deployment:
    experts: list[dict[str, Any]] = [
        {"name": f"e{i}", "backend": "scripted", "model": f"e{i}",
         "roles": ["expert", "aggregator"], "options": {"default": "The answer is (B)."}}
        for i in range(3)
    ]  # fmt: skip
    replies = dict(ROLE_REPLIES)
    if planner_reply is not None:
        replies["Break this hard question"] = planner_reply
    if roles:
        experts.append(
            {"name": "smollm2-135m", "backend": "scripted", "model": "s", "roles": ["tagger"],
             "options": {"responses": replies, "features": ["json_schema"]}}
        )  # fmt: skip
    experts_file = tmp / "experts.yaml"
    experts_file.write_text(yaml.safe_dump({"experts": experts}))
    values = {"data_dir": tmp / "home", "experts_file": experts_file, "profile_file": None}
    return ScriptedDeployment(Settings(**(values | settings)))


def items(tmp: Path, n: int = 3) -> Path:
    path = tmp / "items.jsonl"
    rows = [{"id": f"q{i}", "question": QUESTION, "answer": "B"} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def config(tmp: Path, **extra: Any) -> EvalConfig:
    values: dict[str, Any] = {
        "benchmark": "generic",
        "split": str(items(tmp)),
        "methods": ["symoe"],
        "experts_file": str(tmp / "experts.yaml"),
        "profile_split": None,
        "tagger": "category",
        "workflows": ["research"],
    }
    return EvalConfig(**(values | extra))


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_an_unknown_workflow_is_refused_naming_the_known_ones_before_any_write(
    tmp_path: Path,
) -> None:
    dep = deployment(tmp_path)
    out = tmp_path / "run"
    with pytest.raises(InputError, match=r"unknown workflow 'nope' \(known: .*research"):
        EvalRun(dep, config(tmp_path, workflows=["nope"]), out)
    assert not out.exists()


def test_a_role_without_its_expert_is_refused_before_any_write(tmp_path: Path) -> None:
    dep = deployment(tmp_path, roles=False)
    out = tmp_path / "run"
    with pytest.raises(InputError, match="names expert 'smollm2-135m'"):
        EvalRun(dep, config(tmp_path), out)
    assert not out.exists()


def test_sub_tasks_on_celery_workers_are_refused_their_calls_would_go_uncounted(
    tmp_path: Path,
) -> None:
    dep = deployment(tmp_path, workflow_runner="celery")
    with pytest.raises(ConfigError, match="SYMOE_WORKFLOW_RUNNER=inprocess"):
        EvalRun(dep, config(tmp_path), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_workflow_entries_name_distinct_streams(tmp_path: Path) -> None:
    assert workflow_stream_name("research") == "workflow-research"
    assert workflow_stream_name("/my/flows/deep.yaml") == "workflow-deep"
    with pytest.raises(InputError, match="the same stream twice: workflow-research"):
        config(tmp_path, workflows=["research", "/elsewhere/research.yaml"])


def test_a_run_made_before_workflows_existed_keeps_its_config(tmp_path: Path) -> None:
    now = config(tmp_path, workflows=[])
    before = json.loads(now.model_dump_json())
    del before["workflows"]
    assert EvalConfig.model_validate(before) == now  # so its directory resumes
    assert config(tmp_path).key() != now.key()


def test_a_workflow_stream_grades_costs_and_resumes_item_by_item(tmp_path: Path) -> None:
    dep = deployment(tmp_path)
    cfg = config(tmp_path)
    bench = [BenchItem(id=f"q{i}", question=QUESTION, answer=a, fmt="letter", category="physics")
             for i, a in enumerate("BBC")]  # fmt: skip
    out = tmp_path / "run"
    WorkflowStream(dep, cfg, "research", "never").run(bench, out)

    pred = out / "predictions" / "workflow-research__seed0.jsonl"
    first = read(pred)
    assert [r["item_id"] for r in first] == ["q0", "q1", "q2"]
    assert [r["correct"] for r in first] == [True, True, False]  # q2's gold is C
    assert all(r["pred"] == "B" and r["error"] is None for r in first)
    assert all(r["experts"] and r["any_correct"] is None for r in first)
    # the planner, the judge, per sub-question 3 experts (a vote) and a check, the synthesizer
    assert all(r["model_calls"] == 1 + 1 + 2 * (3 + 1) + 1 for r in first)
    assert all(r["prompt_tokens"] > 0 and r["completion_tokens"] > 0 for r in first)
    stats = StreamStats.model_validate_json(
        (out / "progress" / "workflow-research__seed0.json").read_text()
    )
    assert stats.model_calls == sum(r["model_calls"] for r in first)
    assert stats.prompt_tokens == sum(r["prompt_tokens"] for r in first)

    # killed while writing q1's row: q0 is kept, q1 and q2 run again
    lines = pred.read_text().splitlines()
    pred.write_text(lines[0] + "\n" + lines[1][:25])
    WorkflowStream(dep, cfg, "research", "never").run(bench, out)
    again = read(pred)
    assert [r["item_id"] for r in again] == ["q0", "q1", "q2"]
    assert again[0] == first[0]
    assert {r["run_id"] for r in again[1:]}.isdisjoint(r["run_id"] for r in first)
    WorkflowStream(dep, cfg, "research", "never").run(bench, out)
    assert read(pred) == again  # nothing left to do: nothing rerun


def test_failed_and_refused_runs_are_wrong_rows(tmp_path: Path) -> None:
    dep = deployment(tmp_path, planner_reply="Sorry, no plan today.")
    bench = [
        BenchItem(id="fails", question=QUESTION, answer="B", fmt="letter", category="x"),
        BenchItem(id="too-long", question="why? " * 500, answer="B", fmt="letter", category="x"),
    ]
    WorkflowStream(dep, config(tmp_path), "research", "never").run(bench, tmp_path / "run")
    failed, refused = read(tmp_path / "run" / "predictions" / "workflow-research__seed0.jsonl")
    assert failed["correct"] is False and failed["pred"] is None
    assert "step 'plan' failed" in failed["error"]
    assert failed["model_calls"] == 3  # the planner asked 3 times (research.yaml's asks)
    assert refused["correct"] is False and "characters" in refused["error"]
    assert refused["model_calls"] == 0 and refused["run_id"] is None
