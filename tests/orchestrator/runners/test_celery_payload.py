"""What the orchestrator sends a Celery worker for a group: names, prompts and sampling
parameters, never a path on the orchestrator's disk (the worker resolves its own)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orchestrator.experts import ExpertRegistry, load_experts
from orchestrator.factory import Deployment
from orchestrator.runners import CeleryRunner, InProcessRunner
from orchestrator.scheduler import StageRequest, group_by_model
from orchestrator.settings import Settings
from workers.celery_app import GroupPayload
from workers.pool import ModelPool
from workers.types import GenerationParams, Prompt

DEFAULTS = Path(__file__).resolve().parents[3] / "orchestrator" / "defaults"


class _SentTasks:
    """Stands in for the Celery app: keeps what would go to the broker."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_task(self, name: str, args: list[dict[str, Any]], **options: object) -> None:
        self.sent.append(args[0])


def test_a_group_payload_carries_no_filesystem_path(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "orchestrator-home",
        shared_data_dir=tmp_path / "shared",
        replay_dir=tmp_path / "recordings",
        runner="celery",
    )
    experts = (
        load_experts(DEFAULTS / "experts.yaml").all()
        + load_experts(DEFAULTS / "replay_experts.yaml").all()
    )
    deployment = Deployment(settings, ExpertRegistry(experts))
    stages = deployment.new_stages(InProcessRunner(ModelPool(0, settings)))
    names = [e.name for e in experts]
    requests = [StageRequest(key="q", expert=n, prompt=Prompt.user("2 + 2?")) for n in names]
    groups = group_by_model(
        "experts",
        requests,
        {n: stages.spec(n) for n in names},
        {n: GenerationParams() for n in names},
    )
    app = _SentTasks()
    runner = CeleryRunner(app)
    for i, group in enumerate(groups):
        runner._send(group, groups[i + 1 :])

    assert len(app.sent) == len(names)
    wire = json.dumps(app.sent)  # what the broker carries
    for path in (tmp_path, Path.home(), DEFAULTS.parents[1]):
        assert str(path) not in wire
    for key in ("models_dir", "replay_dir", "cache_dir"):
        assert key not in wire
    for payload in app.sent:  # and the worker reads it as a whole group
        GroupPayload.model_validate(payload)
