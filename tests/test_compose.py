"""The compose deployment, checked without a Docker engine (none runs on the CI machine):
the services the design names, the GPU reservation, settings that exist, experts files that
load, and Dockerfile targets that exist."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from orchestrator.experts import load_experts
from orchestrator.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def _compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((REPO / "compose.yaml").read_text())


def test_the_services_of_the_distributed_deployment() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "api", "worker"}
    devices = services["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert "models:/models" in services["worker"]["volumes"]
    assert services["api"]["command"][:2] == ["symoe", "serve"]
    assert services["worker"]["command"][:2] == ["symoe", "worker"]
    assert services["api"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }


def test_every_symoe_variable_is_a_setting_and_runs_distributed() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    env = _compose()["x-symoe-env"]
    assert env["SYMOE_RUNNER"] == "celery"
    assert env["SYMOE_DATABASE_URL"].startswith("postgresql+psycopg2://")
    for service in _compose()["services"].values():
        for key in service.get("environment", {}) or {}:
            if key.startswith("SYMOE_"):
                assert key.removeprefix("SYMOE_") in fields, key
    text = (REPO / "compose.yaml").read_text()
    for key in re.findall(r"\$\{(SYMOE_[A-Z_]+)", text):
        known_compose_only = {
            "SYMOE_DB_PASSWORD",
            "SYMOE_REDIS_PORT",
            "SYMOE_API_PORT",
            "SYMOE_WORKER_MEMORY_MB",
        }
        assert key in known_compose_only or key.removeprefix("SYMOE_") in fields, key


def test_build_targets_exist_and_the_example_experts_load() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    targets = set(re.findall(r"^FROM \S+ AS (\S+)$", dockerfile, flags=re.M))
    for service in _compose()["services"].values():
        if "build" in service:
            assert service["build"]["target"] in targets
    registry = load_experts(REPO / "deploy" / "experts.gpu.yaml")
    assert {e.backend for e in registry.all()} == {"vllm"}
    assert load_experts(REPO / "orchestrator" / "defaults" / "vllm_experts.yaml").all()
