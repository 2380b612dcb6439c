"""`symoe eval run --benchmark generic` on a user's own HellaSwag-like file: options reach the
models, golds are letters, and a run refused on input leaves nothing in --out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]
FIELDS = [
    "--field",
    "question=ctx",
    "--field",
    "choices=endings",
    "--field",
    "answer=label",
    "--field",
    "id=ind",
    "--field",
    "category=activity_label",
]


def _hellaswag(path: Path, start: int = 0) -> Path:
    """HellaSwag's own field names; every gold is the last ending (label "3" or 3)."""
    rows = [
        {
            "ind": start + n,
            "activity_label": activity,
            "ctx": ctx,
            "endings": ["sits down.", "walks away.", "laughs.", ending],
            "label": "3" if n % 2 else 3,
        }
        for n, (activity, ctx, ending) in enumerate(
            [
                ("Roofing", "A man is sitting on a roof. he", "starts pulling up roofing."),
                ("Weightlifting", "A lady walks to a barbell. she", "lifts it over her head."),
                ("Roofing", "A worker climbs a ladder. he", "nails a shingle down."),
            ]
        )
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _experts(path: Path) -> Path:
    """Each expert answers (D) only when the prompt shows option D with its text."""
    responses = {
        "(D) starts pulling up roofing.": "The answer is (D).",
        "(D) lifts it over her head.": "The answer is (D).",
        "(D) nails a shingle down.": "The answer is (D).",
    }
    lines = ["experts:"]
    for name in ("alpha", "beta", "gamma"):
        options = {"default": "The answer is (A).", "responses": responses}
        lines.append(f"  - {{name: {name}, backend: scripted, model: {name}, "
                     f"options: {json.dumps(options)}}}")  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def env(cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {
        **cli_env,
        "SYMOE_EXPERTS_FILE": str(_experts(tmp_path / "experts.yaml")),
        "SYMOE_PROFILE_FILE": "",
    }


def _run(
    env: dict[str, str], split: Path, out: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    args = ["eval", "run", "--benchmark", "generic", "--split", str(split), "--out", str(out)]
    args += ["--methods", "symoe,best-single", "--tagger", "category", "--aggregation", "vote"]
    return subprocess.run(
        [*SYMOE, *args, *extra], env=env, capture_output=True, text=True, timeout=300
    )


def _rows(out: Path, stream: str) -> list[dict[str, object]]:
    text = (out / "predictions" / f"{stream}.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def test_a_hellaswag_file_runs_with_lettered_options(env: dict[str, str], tmp_path: Path) -> None:
    data = _hellaswag(tmp_path / "hellaswag.jsonl")
    out = tmp_path / "run"
    proc = _run(env, data, out, *FIELDS)
    assert proc.returncode == 0, proc.stderr
    assert "a generic benchmark has no train split" in proc.stderr
    assert "no profile set (uniform weights)" in proc.stderr
    rows = _rows(out, "symoe__seed0")
    assert [(r["item_id"], r["category"], r["gold"], r["pred"]) for r in rows] == [
        ("0", "Roofing", "D", "D"),
        ("1", "Weightlifting", "D", "D"),
        ("2", "Roofing", "D", "D"),
    ]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["methods"]["symoe"]["accuracy_mean"] == 1.0
    config = json.loads((out / "config.json").read_text())
    assert config["mapping"]["choices"] == "endings" and config["profile_split"] is None

    # Profiles built on another labelled file, read through the same mapping.
    profiled = tmp_path / "profiled"
    other = _hellaswag(tmp_path / "hellaswag_train.jsonl", start=100)
    proc = _run(env, data, profiled, *FIELDS, "--profile-split", str(other))
    assert proc.returncode == 0, proc.stderr
    assert "no train split" not in proc.stderr
    profile = json.loads((profiled / "profile.json").read_text())
    assert profile["benchmark"] == "generic" and profile["accuracy"] == {
        "alpha": 1.0,
        "beta": 1.0,
        "gamma": 1.0,
    }


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--field", "question=context"], "hellaswag.jsonl:1: missing field 'context'"),
        (["--field", "questoin=ctx"], "known: question, answer, choices, id, category"),
        (
            [*FIELDS, "--profile-split", "train"],
            "a generic benchmark has no 'train' split to build profiles on: pass "
            "--profile-split none",
        ),
        ([*FIELDS, "--profile", "absent.json"], "profile set not found: absent.json"),
        ([*FIELDS, "--aggregation", "majority"], "unknown aggregation 'majority'"),
    ],
)
def test_a_run_refused_on_input_leaves_nothing_behind(
    env: dict[str, str], tmp_path: Path, extra: list[str], message: str
) -> None:
    data = _hellaswag(tmp_path / "hellaswag.jsonl")
    out = tmp_path / "run"
    proc = _run(env, data, out, *extra)
    assert proc.returncode == 2, proc.stderr
    assert message in " ".join(proc.stderr.split())  # rich wraps long lines
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_a_corrected_rerun_needs_no_overwrite(env: dict[str, str], tmp_path: Path) -> None:
    good = _hellaswag(tmp_path / "hellaswag.jsonl")
    bad = tmp_path / "broken.jsonl"
    bad.write_text(good.read_text().replace('"label": 3', '"label": 7', 1))
    out = tmp_path / "run"
    proc = _run(env, bad, out, *FIELDS)
    assert proc.returncode == 2
    assert f"{bad}:1: answer 7 is outside the 4 choices" in " ".join(proc.stderr.split())
    assert not out.exists()
    proc = _run(env, good, out, *FIELDS)
    assert proc.returncode == 0, proc.stderr
    assert len(_rows(out, "symoe__seed0")) == 3


@pytest.mark.embeddings
def test_profile_build_reads_a_generic_file_through_the_mapping(
    env: dict[str, str], tmp_path: Path
) -> None:
    data = _hellaswag(tmp_path / "hellaswag_train.jsonl")
    out = tmp_path / "profile.json"
    args = ["profile", "build", "--benchmark", "generic", "--split", str(data), *FIELDS]
    proc = subprocess.run(
        [*SYMOE, *args, "--out", str(out), "--no-activate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    profile = json.loads(out.read_text())
    assert profile["questions"] == 3
    assert profile["accuracy"] == {"alpha": 1.0, "beta": 1.0, "gamma": 1.0}
