"""Session-wide test environment: a private data dir, shared data located, no hub access."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    return Path(os.environ.get("SYMOE_SHARED_DATA_DIR", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def symoe_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data dir per test session, so the assembled Gemma file and the skill-embedding
    cache are made once."""
    return tmp_path_factory.mktemp("symoe-home")


@pytest.fixture
def cli_env(symoe_home: Path, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for a `symoe` subprocess: its own database, the session's models."""
    models = symoe_home / "models"
    cache = symoe_home / "cache"
    data = tmp_path / "home"
    data.mkdir()
    (data / "models").symlink_to(models, target_is_directory=True) if models.exists() else None
    env = {
        **os.environ,
        "SYMOE_DATA_DIR": str(data),
        "SYMOE_SHARED_DATA_DIR": str(shared_data_dir()),
        "HF_HUB_OFFLINE": "1",
        "COLUMNS": "200",
    }
    yield env
    # keep what the run built (models, embedding cache) for the next test in the session
    for name, target in (("models", models), ("cache", cache)):
        src = data / name
        if src.exists() and not src.is_symlink() and not target.exists():
            src.rename(target)
