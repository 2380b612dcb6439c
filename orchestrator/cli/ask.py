"""`symoe ask`: answer one question with a recruited committee and show the trace."""

from __future__ import annotations

import typer
from rich.table import Table

from orchestrator.aggregators import AGGREGATORS
from orchestrator.cli.common import (
    choices,
    console,
    deployment,
    err_console,
    friendly_errors,
    names_of,
    print_json,
)
from orchestrator.options import RequestedOptions, batch_options
from orchestrator.plan import Query
from orchestrator.retrieval import check_retrieval, retrieval_choices
from orchestrator.taggers import TAGGERS
from orchestrator.trace import BatchReport, Trace


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@friendly_errors
def ask(
    question: str = typer.Argument(..., help="the question to answer"),
    k: int = typer.Option(
        None, "--k", min=1, max=16, help="experts to recruit (default: settings)"
    ),
    experts: str = typer.Option(None, help="comma-separated candidate experts (default: all)"),
    aggregator: str = typer.Option(None, help="aggregator expert (default: chosen by profile)"),
    aggregation: str = typer.Option(
        None,
        help=f"{choices(AGGREGATORS.names())} (default: settings)",
        callback=names_of(AGGREGATORS.check),
    ),
    tagger: str = typer.Option(
        None,
        help=f"{choices(TAGGERS.names())} (default: settings)",
        callback=names_of(TAGGERS.check),
    ),
    retrieval: str = typer.Option(
        None,
        help=f"{choices(retrieval_choices())} (auto, the default: the configured gate)",
        callback=names_of(check_retrieval),
    ),
    max_tokens: int = typer.Option(None, min=1, help="expert completion budget"),
    cascade: bool = typer.Option(
        None,
        "--cascade/--no-cascade",
        help="ask the recruited experts in order, stop once the answer is settled "
        "(default: settings)",
    ),
    as_json: bool = typer.Option(False, "--json", help="print the full trace as JSON"),
) -> None:
    """Answer QUESTION with k recruited experts and an aggregator; store and print the trace."""
    with deployment() as dep:
        requested = RequestedOptions(
            k=k,
            experts=_split(experts),
            aggregator=aggregator,
            aggregation=aggregation,
            retrieval=retrieval,
            max_tokens=max_tokens,
            cascade=cascade,
        )
        options = batch_options(dep.settings, requested)
        answering = dep.answering(tagger)  # stores the batch in the database
        with err_console.status("recruiting experts and generating..."):
            report = answering.answer([Query(text=question)], options)
    trace = report.traces[0]
    if as_json:
        print_json(trace.model_dump(mode="json"))
    else:
        _print_trace(trace, report)
    if trace.error:
        err_console.print(f"[red]error:[/red] {trace.error}")
        raise typer.Exit(code=1)


def _print_trace(trace: Trace, report: BatchReport) -> None:
    rec = trace.recruitment
    console.print(f"[bold]Answer:[/bold] {trace.answer.strip()}")
    if trace.extracted_answer:
        console.print(f"[bold]Extracted:[/bold] {trace.extracted_answer}")
    console.print(
        f"\n[bold]Skills[/bold] ({trace.tagging.method}): "
        + (
            ", ".join(
                f"{s} ({trace.tagging.similarities.get(s, 0):.2f})" for s in trace.tagging.skills
            )
            or "none"
        )
    )
    r = trace.retrieval
    console.print(
        f"[bold]Retrieval[/bold] (gate {r.gate}): "
        + (f"{len(r.passages)} passage(s) in {r.search_seconds:.2f}s" if r.retrieve else "none")
        + (f" ({'; '.join(r.reasons)})" if r.reasons else "")
    )
    for p in r.passages:
        console.print(f"  [{p.number}] {p.source} (score {p.score:.3f})")
    console.print(
        f"[bold]Profile set:[/bold] {rec.profile_set or 'none'}   "
        f"[bold]Recruiter:[/bold] {rec.recruiter}"
    )
    weights = Table("expert", "G (global)", "L (local)", "weight", title="Recruitment")
    for name, w in sorted(rec.weights.items(), key=lambda kv: -kv[1]):
        weights.add_row(
            name,
            _fmt(rec.global_competence.get(name)),
            _fmt(rec.local_suitability.get(name)),
            f"{w:.3f}",
        )
    console.print(weights)
    console.print(
        f"[bold]Drawn:[/bold] {', '.join(rec.drawn)}   "
        f"[bold]Aggregation:[/bold] {rec.aggregation}"
        + (f" by {rec.aggregator}" if rec.aggregator else "")
    )
    calls = Table("stage", "expert", "extracted", "tokens", "s", "answer", title="Model calls")
    for c in trace.calls:
        text = c.text.strip().replace("\n", " ")
        calls.add_row(
            c.stage,
            c.expert,
            c.extracted or "-",
            f"{c.prompt_tokens}+{c.completion_tokens}",
            f"{c.seconds:.2f}",
            text[:80] + ("..." if len(text) > 80 else ""),
        )
    console.print(calls)
    loads = (
        ", ".join(f"{ld.expert} ({ld.stage}, {ld.seconds:.1f}s)" for ld in report.loads) or "none"
    )
    console.print(f"[bold]Model loads:[/bold] {loads}")
    for note in rec.notes + trace.tagging.notes:
        console.print(f"[dim]note: {note}[/dim]")
    console.print(
        f"[dim]query {trace.query_id} in {report.seconds:.1f}s; stored in the database[/dim]"
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
