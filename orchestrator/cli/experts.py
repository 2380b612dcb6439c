"""`symoe experts list|show`."""

from __future__ import annotations

import typer
from rich.table import Table

from orchestrator.cli.common import console, deployment, friendly_errors, print_json

app = typer.Typer(help="Inspect the configured experts.", no_args_is_help=True)


@app.command("list")
@friendly_errors
def list_experts(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the experts with backend, roles and validation accuracy."""
    with deployment() as dep:
        experts = dep.registry.all()
        profile = dep.profile
    if as_json:
        print_json([e.model_dump(mode="json") for e in experts])
        return
    table = Table("name", "backend", "model", "format", "roles", "enabled", "val. acc.")
    for e in experts:
        acc = profile.accuracy.get(e.name) if profile else None
        table.add_row(
            e.name,
            e.backend,
            e.model,
            e.chat_format,
            ",".join(e.roles),
            "yes" if e.enabled else "no",
            "-" if acc is None else f"{acc:.1%}",
        )
    console.print(table)


@app.command("show")
@friendly_errors
def show_expert(name: str = typer.Argument(..., help="expert name")) -> None:
    """Show one expert's configuration and its skill profile."""
    with deployment() as dep:
        expert = dep.registry.get(name)
        profile = dep.profile
    print_json(expert.model_dump(mode="json"))
    if profile is None or name not in profile.experts:
        console.print("no profile for this expert")
        return
    table = Table("skill", "score", "count", title=f"Profile {profile.label}")
    for skill, s in sorted(profile.experts[name].items(), key=lambda kv: -kv[1].score):
        table.add_row(skill, str(s.score), str(s.count))
    console.print(table)
