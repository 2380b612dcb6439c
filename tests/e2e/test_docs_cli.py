"""`symoe docs` end to end, as a user runs it: add real files and a corpus, list, search,
re-add (unchanged, replaced), remove; the exit code says when something was not ingested."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fpdf import FPDF

from tests.minilm import minilm_or_skip

SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SYMOE, *args], env=env, capture_output=True, text=True, timeout=300)


def write_pdf(path: Path, line: str | None) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    if line is None:
        pdf.rect(20, 20, 100, 60, style="F")  # an image-only page: no text layer
    else:
        pdf.cell(0, 10, line)
    pdf.output(str(path))


@pytest.mark.embeddings
def test_docs_add_list_search_and_remove(cli_env: dict[str, str], tmp_path: Path) -> None:
    minilm_or_skip()  # the subprocess embeds with the bundled model
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "france.txt").write_text("Paris is the capital of France, on the Seine.")
    (docs / "etna.html").write_text(
        "<html><body><h1>Etna</h1><p>Mount Etna is a volcano in Sicily.</p></body></html>"
    )
    write_pdf(docs / "cells.pdf", "Mitochondria are the powerhouse of the cell.")
    write_pdf(docs / "scan.pdf", None)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        json.dumps({"id": "q1", "body": "The Danube flows through Vienna and Budapest."})
        + "\n"
        + json.dumps({"id": "q2", "title": "no body"})
        + "\n"
    )

    added = run(["docs", "add", str(docs), str(corpus), "--text-field", "body", "--id-field", "id"],
                cli_env)  # fmt: skip
    assert added.returncode == 1, added.stderr
    assert added.stdout.strip() == "added 4, replaced 0, unchanged 0, failed 2"
    assert "scan.pdf: no text layer (scanned?)" in added.stderr
    assert f"{corpus}:2: no 'body' field" in added.stderr

    listed = run(["docs", "list", "--json"], cli_env)
    assert listed.returncode == 0, listed.stderr
    sources = {d["source"]: d for d in json.loads(listed.stdout)}
    assert set(sources) == {
        str(docs.resolve() / name) for name in ("france.txt", "etna.html", "cells.pdf")
    } | {f"{corpus.resolve()}#q1"}

    for retriever in ("hybrid", "dense"):
        found = run(["docs", "search", "Which volcano is in Sicily?", "--k", "2",
                     "--retriever", retriever, "--json"], cli_env)  # fmt: skip
        assert found.returncode == 0, found.stderr
        hits = json.loads(found.stdout)
        assert len(hits) == 2 and hits[0]["chunk"]["source"].endswith("etna.html")
        assert "Mount Etna is a volcano in Sicily." in hits[0]["chunk"]["text"]

    (docs / "france.txt").write_text("Paris is the capital of France. Lyon is its third city.")
    (docs / "scan.pdf").unlink()
    again = run(["docs", "add", str(docs)], cli_env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "added 0, replaced 1, unchanged 2, failed 0"

    removed = run(["docs", "remove", str(docs / "france.txt"), "nowhere.txt"], cli_env)
    assert removed.returncode == 1
    assert f"removed {docs.resolve() / 'france.txt'} (1 chunks)" in removed.stdout
    assert "no document nowhere.txt" in removed.stderr
    table = run(["docs", "list"], cli_env)
    assert table.returncode == 0 and "france.txt" not in table.stdout
    assert "3 documents, 3 chunks" in table.stderr


def test_docs_search_on_an_empty_store_says_so(cli_env: dict[str, str]) -> None:
    empty = run(["docs", "search", "anything", "--json"], cli_env)
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout) == [] and "no documents stored" in empty.stderr
    unknown = run(["docs", "search", "anything", "--retriever", "nope"], cli_env)
    assert unknown.returncode == 2 and "unknown retriever 'nope'" in unknown.stderr
