"""Ingestion of real files (text, Markdown, HTML, PDFs written with fpdf2, JSONL corpora) into
a real SQLite document store, embedded with the bundled all-MiniLM-L6-v2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fpdf import FPDF
from sqlalchemy import text

from orchestrator.db import DocumentStore, make_engine, migrate, session_factory
from orchestrator.retrieval.chunking import Chunker
from orchestrator.retrieval.ingest import Ingester, IngestResult, summary
from skills.embeddings import MiniLMEmbedder
from tests.minilm import minilm_or_skip

pytestmark = pytest.mark.embeddings

PARIS = "Paris is the capital of France. The Seine flows through it."
HTML = """<!doctype html>
<html><head><title>Volcanoes</title><style>p { color: red }</style></head>
<body><script>var hidden = "script text";</script>
<h1>Mount Etna</h1><p>Etna is an active volcano</p><p>on the east coast of Sicily.</p>
</body></html>
"""


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return minilm_or_skip()


@pytest.fixture
def engine_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db' / 'symoe.db'}"


@pytest.fixture
def store(engine_url: str) -> Iterator[DocumentStore]:
    engine = make_engine(engine_url)
    migrate(engine)
    yield DocumentStore(session_factory(engine))
    engine.dispose()


@pytest.fixture
def ingester(store: DocumentStore, embedder: MiniLMEmbedder) -> Ingester:
    return Ingester(store, embedder, Chunker(chunk_tokens=16, overlap=4), batch_chunks=8)


def write_pdf(path: Path, lines: list[str]) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in lines:
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    if not lines:  # a page with only a drawing: what a scan without OCR looks like to pypdf
        pdf.rect(20, 20, 100, 60, style="F")
    pdf.output(str(path))
    return path


def by_source(results: list[IngestResult]) -> dict[str, IngestResult]:
    return {Path(r.source.split("#")[0].split(":")[0]).name: r for r in results}


def test_every_file_type_and_the_files_that_cannot_be_ingested(
    tmp_path: Path, ingester: Ingester, store: DocumentStore
) -> None:
    docs = tmp_path / "docs"
    (docs / "sub" / ".git").mkdir(parents=True)
    (docs / "a.txt").write_text(f"{PARIS} {PARIS} {PARIS}")  # 3 chunks of 16 tokens
    (docs / "sub" / "b.md").write_text("# Rivers\n\nThe Danube flows through Vienna.\n")
    (docs / "sub" / "c.html").write_text(HTML)
    write_pdf(docs / "d.pdf", ["Photosynthesis turns light into chemical energy."])
    write_pdf(docs / "scan.pdf", [])
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a PDF")
    (docs / "empty.txt").write_text("  \n")
    (docs / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (docs / "notes.docx").write_bytes(b"PK\x03\x04")
    (docs / ".hidden.txt").write_text("never read")
    (docs / "sub" / ".git" / "config").write_text("never read")

    results = by_source(ingester.ingest([docs, tmp_path / "missing.txt"]))
    assert {n: r.outcome for n, r in results.items() if r.outcome != "failed"} == {
        "a.txt": "added",
        "b.md": "added",
        "c.html": "added",
        "d.pdf": "added",
    }
    assert {n: r.message for n, r in results.items() if r.outcome == "failed"} == {
        "scan.pdf": "no text layer (scanned?)",
        "broken.pdf": results["broken.pdf"].message,
        "empty.txt": "empty (no text)",
        "latin1.txt": "not UTF-8 text",
        "notes.docx": "unsupported file type '.docx' (supported: .htm, .html, .jsonl, "
        ".markdown, .md, .pdf, .txt)",
        "missing.txt": "no such file or folder",
    }
    assert results["broken.pdf"].message.startswith("not a readable PDF")

    documents = {Path(d.source).name: d for d in store.list()}
    assert set(documents) == {"a.txt", "b.md", "c.html", "d.pdf"}
    assert documents["a.txt"].source == str((docs / "a.txt").resolve())
    assert documents["c.html"].metadata == {"type": "html", "title": "Volcanoes"}
    assert documents["d.pdf"].metadata == {"type": "pdf", "pages": 1}
    texts = {c.source: c.text for c in store.chunks(sorted(store.chunk_ids())) if c.position == 0}
    html_text = texts[documents["c.html"].source]
    assert "Mount Etna\nEtna is an active volcano\non the east coast" in html_text
    assert "script text" not in html_text and "color" not in html_text
    assert "Photosynthesis turns light into chemical energy." in texts[documents["d.pdf"].source]

    # chunks overlap (16 tokens, 4 shared) and each is embedded as the embedder embeds it
    ids = sorted(store.chunk_ids())
    chunks = store.chunks(ids)
    a_chunks = [c for c in chunks if c.source == documents["a.txt"].source]
    assert [(c.position, c.tokens) for c in a_chunks] == [(0, 16), (1, 16), (2, 15)]
    assert a_chunks[0].text.startswith(PARIS) and a_chunks[-1].text.endswith("through it.")
    np.testing.assert_allclose(
        store.embeddings(ids), ingester.embedder.encode([c.text for c in chunks]), atol=1e-5
    )


def test_a_corpus_line_without_its_text_field_is_named_and_the_rest_ingested(
    tmp_path: Path, store: DocumentStore, embedder: MiniLMEmbedder
) -> None:
    corpus = tmp_path / "corpus.jsonl"
    records = [
        {"pid": "p1", "body": "Marie Curie won two Nobel prizes.", "title": "Curie"},
        {"pid": "p2", "title": "no body here"},
        "not an object",
        {"pid": "p3", "body": "Alan Turing formalised computation.", "big": "x" * 600},
    ]
    corpus.write_text("\n".join(json.dumps(r) for r in records) + "\n\n{broken json\n")
    ingester = Ingester(store, embedder, Chunker(), text_field="body", id_field="pid")
    results = ingester.ingest([corpus])
    failed = [(r.source, r.message) for r in results if r.outcome == "failed"]
    assert failed == [
        (f"{corpus}:2", "no 'body' field"),
        (f"{corpus}:3", "not a JSON object"),
        (f"{corpus}:6", "not valid JSON (Expecting property name enclosed in double quotes)"),
    ]
    prefix = f"{corpus.resolve()}#"
    assert [d.source for d in store.list()] == [prefix + "p1", prefix + "p3"]
    first = store.get(prefix + "p1")
    assert first is not None and first.metadata == {
        "type": "jsonl",
        "file": str(corpus.resolve()),
        "line": 1,
        "fields": {"pid": "p1", "title": "Curie"},
    }
    third = store.get(prefix + "p3")
    assert third is not None and "big" not in third.metadata["fields"]  # too long to keep

    no_ids = Ingester(store, embedder, Chunker(), text_field="body", id_field="missing")
    first_line = next(r for r in no_ids.ingest([corpus]) if r.source == f"{corpus}:1")
    assert (first_line.outcome, first_line.message) == ("failed", "no 'missing' field")


def test_reingesting_skips_unchanged_content_and_replaces_changed(
    tmp_path: Path, ingester: Ingester, store: DocumentStore
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(PARIS)
    (docs / "b.txt").write_text("Berlin is the capital of Germany.")
    assert summary(ingester.ingest([docs])) == {
        "added": 2,
        "replaced": 0,
        "unchanged": 0,
        "failed": 0,
    }
    revision = store.revision()
    assert summary(ingester.ingest([docs, docs / "a.txt"]))["unchanged"] == 3
    assert store.revision() == revision

    (docs / "b.txt").write_text("Berlin is the capital of Germany. It lies on the Spree river.")
    results = by_source(ingester.ingest([docs]))
    assert (results["a.txt"].outcome, results["b.txt"].outcome) == ("unchanged", "replaced")
    assert store.revision()[0] > revision[0]
    b_chunks = [c for c in store.chunks(store.chunk_ids()) if c.source.endswith("b.txt")]
    assert "Spree" in " ".join(c.text for c in b_chunks)
    assert sorted(c.position for c in b_chunks) == list(range(len(b_chunks)))


def test_a_document_that_fails_while_stored_leaves_nothing_behind(
    tmp_path: Path, ingester: Ingester, store: DocumentStore
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(PARIS)
    (docs / "b.txt").write_text("Rome is the capital of Italy.")
    ingester.ingest([docs])
    before = {d.source: d for d in store.list()}, store.revision()
    # The database refuses one chunk in the middle of a document's write: its document row
    # and the chunks before it were already written in that transaction.
    with store.sessions.begin() as session:
        session.execute(
            text(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON chunks "
                "WHEN NEW.text LIKE '%POISON%' BEGIN SELECT RAISE(ABORT, 'poisoned chunk'); END"
            )
        )
    words = " ".join(f"word{i}" for i in range(40))
    (docs / "b.txt").write_text(f"{words} POISON {words}")  # a replacement fails
    (docs / "c.txt").write_text(f"{words} POISON")  # a new document fails
    (docs / "d.txt").write_text("Madrid is the capital of Spain.")

    results = by_source(ingester.ingest([docs]))
    assert {n: r.outcome for n, r in results.items()} == {
        "a.txt": "unchanged",
        "b.txt": "failed",
        "c.txt": "failed",
        "d.txt": "added",
    }
    assert "poisoned chunk" in results["b.txt"].message
    stored = {Path(d.source).name: d for d in store.list()}
    assert set(stored) == {"a.txt", "b.txt", "d.txt"}
    assert stored["b.txt"] == before[0][str((docs / "b.txt").resolve())]  # the old version, whole
    b_chunks = [c for c in store.chunks(store.chunk_ids()) if c.source.endswith("b.txt")]
    assert [c.text for c in b_chunks] == ["Rome is the capital of Italy."]
    assert store.revision()[1] == before[1][1] + stored["d.txt"].n_chunks


def test_new_chunk_settings_rechunk_unchanged_text(
    tmp_path: Path, store: DocumentStore, embedder: MiniLMEmbedder
) -> None:
    doc = tmp_path / "a.txt"
    doc.write_text(" ".join(f"word{i}" for i in range(60)))
    small = Ingester(store, embedder, Chunker(chunk_tokens=16, overlap=4))
    assert [r.outcome for r in small.ingest([doc])] == ["added"]
    assert [r.outcome for r in small.ingest([doc])] == ["unchanged"]
    chunks_before = store.list()[0].n_chunks

    for tokens, overlap in ((32, 4), (32, 8)):  # the size, then the overlap alone
        other = Ingester(store, embedder, Chunker(chunk_tokens=tokens, overlap=overlap))
        assert [r.outcome for r in other.ingest([doc])] == ["replaced"]
        assert [r.outcome for r in other.ingest([doc])] == ["unchanged"]
    assert store.list()[0].n_chunks < chunks_before
    assert [r.outcome for r in small.ingest([doc])] == ["replaced"]
    assert store.list()[0].n_chunks == chunks_before
