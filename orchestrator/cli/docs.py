"""`symoe docs`: the documents retrieval searches. `add` ingests files, folders and JSONL
corpora (unchanged content is skipped, changed content replaced), `add-corpus` a RAG
evaluation set's passages, `remove`, `list`, `search`."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from orchestrator.benchmarks.rag_corpora import CORPORA, corpus_documents
from orchestrator.cli.common import (
    choices,
    console,
    deployment,
    err_console,
    friendly_errors,
    model_errors,
    names_of,
    print_json,
)
from orchestrator.errors import InputError
from orchestrator.retrieval.ingest import OUTCOMES, IngestResult, find_files, summary
from orchestrator.retrieval.retrievers import RETRIEVERS

app = typer.Typer(help="Documents for retrieval: add, list, remove, search.", no_args_is_help=True)

SNIPPET_CHARS = 160
CORPUS_BATCH = 256  # documents handed to the ingester at a time: the progress bar's step


def _progress() -> Progress:
    """A bar on stderr that disappears when done (the summary line stays)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    return Progress(*columns, TimeElapsedColumn(), console=err_console, transient=True)


def _report(result: IngestResult, progress: Progress) -> None:
    if result.outcome == "failed":
        progress.console.print(
            f"[yellow]skipped[/yellow] {escape(result.source)}: {escape(result.message)}",
            highlight=False,
        )


@app.command("add")
@friendly_errors
def add(
    paths: list[Path] = typer.Argument(..., help="files and folders (folders recursively)"),
    text_field: str = typer.Option(
        "text", "--text-field", help="JSONL corpora: the field that holds each document's text"
    ),
    id_field: str | None = typer.Option(
        None,
        "--id-field",
        help="JSONL corpora: the field naming each document (its source is FILE#ID); "
        "default: the line number",
    ),
) -> None:
    """Ingest files (.txt, .md, .markdown, .html, .htm, .pdf, .jsonl) and folders: read,
    chunk, embed and store each document in one transaction. Unchanged content is skipped;
    exit code 1 when any file or corpus line could not be ingested."""
    with deployment() as dep, model_errors():
        ingester = dep.ingester(text_field, id_field)
        files, missing = find_files(paths)
        counts = summary(missing)
        with _progress() as progress:
            for result in missing:
                _report(result, progress)
            task = progress.add_task("files", total=len(files))
            for path in files:
                progress.update(task, description=escape(path.name[-40:]))
                for result in ingester.ingest_file(path):
                    counts[result.outcome] += 1
                    _report(result, progress)
                progress.advance(task)
    console.print(", ".join(f"{outcome} {counts[outcome]}" for outcome in OUTCOMES))
    if counts["failed"]:
        raise typer.Exit(code=1)


def _known_corpus(name: str) -> str:
    if name not in CORPORA:
        raise InputError(f"unknown corpus {name!r} (known: {', '.join(CORPORA)})")
    return name


@app.command("add-corpus")
@friendly_errors
def add_corpus(
    name: str = typer.Argument(
        ..., help=f"{choices(CORPORA)}: a RAG evaluation set", callback=names_of(_known_corpus)
    ),
    limit: int | None = typer.Option(
        None, "--limit", min=1, help="only the first N documents (a smoke test); default: all"
    ),
) -> None:
    """Ingest a RAG evaluation set's passages (shared_data_dir/rag; see
    orchestrator/benchmarks/rag_corpora.py) as one document each, sources `NAME:...`, so
    `symoe eval run --benchmark NAME` can retrieve them. Unchanged documents are skipped."""
    with deployment() as dep, model_errors():
        settings = dep.settings
        documents = list(islice(corpus_documents(settings.benchmarks_dir, name), limit))
        ingester = dep.ingester()
        counts = summary([])
        with _progress() as progress:
            task = progress.add_task(name, total=len(documents))
            for start in range(0, len(documents), CORPUS_BATCH):
                batch = documents[start : start + CORPUS_BATCH]
                for result in ingester.ingest_documents(batch):
                    counts[result.outcome] += 1
                    _report(result, progress)
                progress.advance(task, len(batch))
    console.print(", ".join(f"{outcome} {counts[outcome]}" for outcome in OUTCOMES))
    if counts["failed"]:
        raise typer.Exit(code=1)


@app.command("remove")
@friendly_errors
def remove(
    sources: list[str] = typer.Argument(..., help="sources as `symoe docs list` shows them"),
) -> None:
    """Remove documents and their chunks. A path is also matched as its absolute path."""
    unknown = 0
    with deployment() as dep:
        store = dep.stores.documents
        for source in sources:
            removed = store.remove(source) or store.remove(str(Path(source).resolve()))
            if removed is None:
                err_console.print(f"no document {escape(source)}", highlight=False)
                unknown += 1
            else:
                console.print(
                    f"removed {escape(removed.source)} ({removed.n_chunks} chunks)",
                    highlight=False,
                )
    if unknown:
        raise typer.Exit(code=1)


@app.command("list")
@friendly_errors
def list_documents(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every stored document with its chunk count."""
    with deployment() as dep:
        documents = dep.stores.documents.list()
    if as_json:
        print_json([d.model_dump(mode="json") for d in documents])
        return
    table = Table("source", "type", "chunks", "updated")
    for d in documents:
        kind = str(d.metadata.get("type", ""))
        table.add_row(escape(d.source), kind, str(d.n_chunks), f"{d.updated_at:%Y-%m-%d %H:%M}")
    console.print(table)
    err_console.print(f"{len(documents)} documents, {sum(d.n_chunks for d in documents)} chunks")


@app.command("search")
@friendly_errors
def search(
    query: str = typer.Argument(..., help="what to look for"),
    k: int = typer.Option(5, "--k", min=1, max=100, help="how many chunks"),
    retriever: str | None = typer.Option(
        None,
        "--retriever",
        help=f"{choices(RETRIEVERS.names())} (default: SYMOE_RETRIEVER, hybrid)",
        callback=names_of(RETRIEVERS.check),
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The k chunks that best match QUERY, best first."""
    with deployment() as dep, model_errors():
        store = dep.stores.documents
        if store.revision()[1] == 0:
            err_console.print("no documents stored; add some with `symoe docs add PATH`")
            if as_json:
                print_json([])
            return
        hits = dep.make_retriever(retriever).search(query, k)
    if as_json:
        print_json([h.model_dump(mode="json") for h in hits])
        return
    table = Table("rank", "score", "source", "chunk", "text")
    for hit in hits:
        text = " ".join(hit.chunk.text.split())
        snippet = text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"
        table.add_row(
            str(hit.rank),
            f"{hit.score:.4f}",
            escape(hit.chunk.source),
            str(hit.chunk.position),
            escape(snippet),
        )
    console.print(table)
