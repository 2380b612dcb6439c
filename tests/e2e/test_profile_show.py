"""`symoe profile show --file F` tells what the chosen method needs from the set: the
per-skill smoothing and whether the learned aggregation has fitted weights."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from orchestrator.aggregators.answer_features import FEATURES
from skills.profiles import ProfileSet, SkillScore, StackerWeights

SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]


def _show(path: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(
        [*SYMOE, "profile", "show", "--file", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return " ".join(proc.stdout.split())


def test_show_names_the_smoothing_and_the_fitted_weights(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    profile = ProfileSet(
        name="shown",
        experts={"m": {"law": SkillScore(score=2, count=4)}},
        accuracy={"m": 0.75},
        smoothing=20.0,
    )
    older = tmp_path / "older.json"
    profile.save(older)
    assert "learned aggregation: no fitted weights (auto uses symbolic + llm)" in _show(
        older, cli_env
    )
    profile.stacker = StackerWeights(
        features=list(FEATURES),
        experts={"m": [1.0, 0, 0, 0, 0]},
        l2=0.001,
        cv_accuracy=0.702,
        questions=9816,
    )
    fitted = tmp_path / "fitted.json"
    profile.save(fitted)
    out = _show(fitted, cli_env)
    assert "per-skill smoothing (Beta-prior strength, by cross-validation): 20" in out
    assert (
        "learned aggregation: fitted on 9816 questions, without skill weights, L2 0.001, "
        "cross-validated accuracy 70.2% (auto uses ranked + learned)" in out
    )
