"""bench/wrk_load.py end to end: a real `symoe serve` over scripted experts, loaded by wrk
through bench/wrk/post.lua, on both POST endpoints; and its message when wrk is missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench_support import REPO, run_bench

SCRIPT = REPO / "bench" / "wrk_load.py"


@pytest.mark.embeddings  # the server's tagger is the embedding tagger
@pytest.mark.skipif(
    shutil.which("wrk") is None,
    reason="wrk is not installed (Debian's wrk; `bash scripts/setup --dev` installs it)",
)
def test_wrk_loads_both_endpoints_without_failures(tmp_path: Path) -> None:
    out = tmp_path / "wrk_load.json"
    done = run_bench("wrk_load.py", "--concurrency", "2", "--duration", "2", "--out", str(out))
    record = json.loads(out.read_text())
    assert [r["endpoint"] for r in record["results"]] == ["/v1/answers", "/v1/chat/completions"]
    for r in record["results"]:
        assert r["concurrency"] == 2 and r["threads"] == 2
        assert r["requests"] > 0 and r["rps"] > 0
        assert r["non2xx"] == 0, r
        assert r["errors"] == 0, r
        assert 0 < r["p50_ms"] <= r["p99_ms"]
    assert "| sqlite | 1 | /v1/answers | 2 |" in done.stdout
    assert "$KEY" in record["wrk_commands"][0]  # the key itself is not written out


def test_says_how_to_install_wrk_when_it_is_missing(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path / "never.json")],
        cwd=REPO,
        env={**os.environ, "PATH": str(tmp_path)},  # no wrk there
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "wrk is not installed" in done.stderr and "apt-get install wrk" in done.stderr
    assert not (tmp_path / "never.json").exists()
