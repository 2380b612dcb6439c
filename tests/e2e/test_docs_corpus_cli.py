"""`symoe docs add-corpus NAME` end to end: a RAG set's first documents are ingested under
namespaced sources, a second run finds them unchanged, and an unknown name is refused."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from orchestrator.benchmarks.rag_data import rag_dir
from tests.conftest import shared_data_dir
from tests.minilm import minilm_or_skip

SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SYMOE, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.embeddings
@pytest.mark.data
def test_add_corpus_ingests_once_and_searches(cli_env: dict[str, str]) -> None:
    if not rag_dir(shared_data_dir() / "benchmarks").is_dir():
        pytest.skip("no RAG data")
    minilm_or_skip()
    added = run(["docs", "add-corpus", "pubmedqa", "--limit", "3"], cli_env)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added 3, replaced 0, unchanged 0, failed 0"
    again = run(["docs", "add-corpus", "pubmedqa", "--limit", "3"], cli_env)
    assert again.stdout.strip() == "added 0, replaced 0, unchanged 3, failed 0"

    listed = json.loads(run(["docs", "list", "--json"], cli_env).stdout)
    first = {"pubmedqa:21645374", "pubmedqa:16418930", "pubmedqa:9488747"}  # file order
    assert {d["source"] for d in listed} == first
    assert all(d["metadata"]["type"] == "pubmedqa" for d in listed)
    found = run(["docs", "search", "lace plant mitochondria", "--k", "1", "--json"], cli_env)
    assert json.loads(found.stdout)[0]["chunk"]["source"] == "pubmedqa:21645374"


def test_add_corpus_refuses_an_unknown_name(cli_env: dict[str, str]) -> None:
    refused = run(["docs", "add-corpus", "squad"], cli_env)
    assert refused.returncode == 2 and "unknown corpus 'squad'" in refused.stderr
