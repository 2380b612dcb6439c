"""`symoe eval run` killed mid-way and rerun: same result, no item computed twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import shared_data_dir

pytestmark = pytest.mark.skipif(
    not (shared_data_dir() / "benchmarks").is_dir(), reason="no benchmark data"
)

SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]


def _experts(path: Path, delay: float) -> Path:
    lines = ["experts:"]
    for name, letter in (("alpha", "A"), ("beta", "B"), ("gamma", "C"), ("delta", "A")):
        lines.append(
            f"  - {{name: {name}, backend: scripted, model: {name}, "
            f"options: {{default: 'The answer is ({letter}).', delay_s: {delay}}}}}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def _args(out: Path) -> list[str]:
    return [
        "eval",
        "run",
        "--benchmark",
        "mmlu_pro",
        "--split",
        "test",
        "--limit",
        "12",
        "--methods",
        "symoe,random-k,top-k,oracle",
        "--seeds",
        "0,1",
        "--tagger",
        "category",
        "--chunk",
        "2",
        "--out",
        str(out),
    ]


def _predictions(out: Path) -> dict[str, list[dict[str, object]]]:
    return {
        p.name: [json.loads(line) for line in p.read_text().splitlines()]
        for p in sorted((out / "predictions").glob("*.jsonl"))
    }


def test_a_killed_run_resumes_without_recomputing(cli_env: dict[str, str], tmp_path: Path) -> None:
    experts = tmp_path / "experts.yaml"
    env = {**cli_env, "SYMOE_EXPERTS_FILE": str(experts)}

    _experts(experts, delay=0)
    reference = tmp_path / "reference"
    done = subprocess.run(
        [*SYMOE, *_args(reference)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr

    _experts(experts, delay=0.2)
    out = tmp_path / "interrupted"
    proc = subprocess.Popen(
        [*SYMOE, *_args(out)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    first = out / "predictions" / "symoe__seed0.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (
        first.exists() and first.read_text().count("\n") >= 4
    ):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = first.read_text().count("\n")
    assert 4 <= partial < 12, "killed mid-way through the first stream"
    assert not (out / "metrics.json").exists()

    _experts(experts, delay=0)
    again = subprocess.run(
        [*SYMOE, *_args(out)], env=env, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr
    resumed, expected = _predictions(out), _predictions(reference)
    assert resumed.keys() == expected.keys()
    for name, rows in resumed.items():
        ids = [r["item_id"] for r in rows]
        assert len(ids) == len(set(ids)) == 12, f"{name}: an item was computed twice or lost"
        key = lambda r: r["item_id"]  # noqa: E731
        assert sorted(rows, key=key) == sorted(expected[name], key=key)
    compared = subprocess.run(
        [*SYMOE, "eval", "compare", str(reference), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert compared.returncode == 0, compared.stderr
    assert "symoe" in compared.stdout and "random-k" in compared.stdout
    got = json.loads((out / "metrics.json").read_text())["methods"]
    want = json.loads((reference / "metrics.json").read_text())["methods"]
    assert {m: v["accuracy_per_seed"] for m, v in got.items()} == {
        m: v["accuracy_per_seed"] for m, v in want.items()
    }


def test_a_different_config_in_the_same_directory_is_refused(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**cli_env, "SYMOE_EXPERTS_FILE": str(_experts(tmp_path / "e.yaml", delay=0))}
    out = tmp_path / "run"
    assert (
        subprocess.run([*SYMOE, *_args(out)], env=env, capture_output=True, timeout=300).returncode
        == 0
    )
    before = _predictions(out)
    other = [a if a != "12" else "6" for a in _args(out)]
    proc = subprocess.run([*SYMOE, *other], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "holds a run with a different config" in proc.stderr
    assert _predictions(out) == before, "the existing run is untouched"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--benchmark", "nope"], "unknown benchmark 'nope'"),
        (["--benchmark", "mmlu_pro", "--split", "dev"], "unknown split 'dev'"),
        (["--benchmark", "mmlu_pro", "--methods", "magic"], "unknown method 'magic'"),
        (["--benchmark", "mmlu_pro", "--profile-split", "test"], "another split"),
        (["--benchmark", "mmlu_pro", "--seeds", "a,b"], "--seeds must be comma-separated"),
        (["--benchmark", "generic", "--split", "/nonexistent.jsonl"], "/nonexistent.jsonl"),
    ],
)
def test_bad_eval_input_is_one_line(
    cli_env: dict[str, str], tmp_path: Path, extra: list[str], message: str
) -> None:
    env = {**cli_env, "SYMOE_EXPERTS_FILE": str(_experts(tmp_path / "e.yaml", delay=0))}
    args = ["eval", "run", "--split", "test", "--tagger", "category", "--out", str(tmp_path / "r")]
    proc = subprocess.run(
        [*SYMOE, *args, *extra], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
