"""Settings: the replay pool's folder, unknown SYMOE_ variables named at load, and the
groups by concern (the workers' paths inherited) under the variable names README documents."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

from orchestrator import settings as settings_module
from orchestrator.settings import Settings
from workers.settings import WorkerSettings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No SYMOE_ variable from the surrounding shell, and no variable warned about yet."""
    for key in list(os.environ):
        if key.upper().startswith("SYMOE_"):
            monkeypatch.delenv(key)
    monkeypatch.setattr(settings_module, "_warned", set())
    return monkeypatch


def test_replay_dir_defaults_to_the_shared_data(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert Settings(shared_data_dir=tmp_path).replay_dir == tmp_path / "replay" / "mmlu_pro"
    clean_env.setenv("SYMOE_REPLAY_DIR", "")
    assert Settings(shared_data_dir=tmp_path).replay_dir == tmp_path / "replay" / "mmlu_pro"


def test_replay_dir_is_a_setting(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("SYMOE_REPLAY_DIR", str(tmp_path / "mine"))
    assert Settings(shared_data_dir=tmp_path).replay_dir == tmp_path / "mine"
    assert Settings(replay_dir=tmp_path / "given").replay_dir == tmp_path / "given"


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "orchestrator.settings"]


def test_a_misspelt_variable_is_named_once_with_the_nearest_setting(
    clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clean_env.setenv("SYMOE_REPLAYDIR", "/somewhere")
    clean_env.setenv("SYMOE_QQQ", "1")
    with caplog.at_level(logging.WARNING, logger="orchestrator.settings"):
        Settings()
        Settings()  # a second load in the same process says nothing new
    assert _warnings(caplog) == [
        "SYMOE_QQQ is not a symoe setting and is ignored",
        "SYMOE_REPLAYDIR is not a symoe setting and is ignored; did you mean SYMOE_REPLAY_DIR?",
    ]
    assert caplog.records[0].levelno == logging.WARNING


def test_settings_and_known_non_settings_give_no_warning(
    clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    clean_env.setenv("SYMOE_REPLAY_DIR", str(tmp_path))
    clean_env.setenv("symoe_k", "4")  # read case-insensitively, as pydantic-settings does
    clean_env.setenv("SYMOE_TEST_POSTGRES_URL", "postgresql://x")  # the tests' own
    clean_env.setenv("SYMOE_DB_PASSWORD", "secret")  # compose.yaml's own
    with caplog.at_level(logging.WARNING, logger="orchestrator.settings"):
        settings = Settings()
    assert _warnings(caplog) == []
    assert settings.k == 4 and settings.replay_dir == tmp_path


def test_compose_variables_are_settings_or_known_non_settings() -> None:
    """Each ${SYMOE_...} that compose.yaml reads from the shell is either a setting or listed
    in NOT_SETTINGS, so exporting it for compose gives no warning."""
    text = (Path(__file__).resolve().parents[2] / "compose.yaml").read_text()
    known = {f"SYMOE_{name.upper()}" for name in Settings.model_fields}
    used = set(re.findall(r"\$\{(SYMOE_[A-Z0-9_]+)", text))
    assert used and used <= known | settings_module.NOT_SETTINGS


def test_every_variable_the_readme_names_is_a_setting() -> None:
    """Grouping the settings by concern renamed no variable: each SYMOE_ name in README.md
    is a field of Settings, a known non-setting, or the misspelling README shows."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    named = set(re.findall(r"SYMOE_[A-Z0-9_]+", text))
    known = {f"SYMOE_{name.upper()}" for name in Settings.model_fields}
    # README's misspelling example, and SYMOE_ and SYMOE_TEST_ as prefixes
    not_settings = settings_module.NOT_SETTINGS | {"SYMOE_REPLAYDIR", "SYMOE_"}
    documented = {
        n for n in named - not_settings if not n.startswith(settings_module.NOT_SETTINGS_PREFIX)
    }
    assert {"SYMOE_DATA_DIR", "SYMOE_REPLAY_DIR", "SYMOE_RUNNER", "SYMOE_K"} <= documented
    assert documented <= known


def test_each_setting_is_declared_once_in_one_concern() -> None:
    """The workers' path settings are the orchestrator's by inheritance; the concern groups
    share no field and together make up Settings."""
    groups = [
        settings_module.PathSettings,
        settings_module.ExecutionSettings,
        settings_module.RecruitingSettings,
        settings_module.RetrievalSettings,
        settings_module.BudgetSettings,
        settings_module.ApiSettings,
        settings_module.ServingSettings,
    ]
    assert issubclass(Settings, WorkerSettings)
    assert set(WorkerSettings.model_fields) <= set(settings_module.PathSettings.model_fields)
    names = [name for group in groups for name in group.model_fields]
    assert len(names) == len(set(names)) and set(names) == set(Settings.model_fields)
