"""The `symoe` entry point: subcommands are registered here, implemented beside."""

from __future__ import annotations

import typer

from orchestrator.cli import docs, experts, gate, keys, profile, workflow
from orchestrator.cli import eval as eval_cli
from orchestrator.cli.ask import ask
from orchestrator.cli.serve import serve
from orchestrator.cli.worker import worker

app = typer.Typer(
    help="symoe: answer with a query-specific committee of expert LLMs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("ask")(ask)
app.command("worker")(worker)
app.command("serve")(serve)
app.add_typer(keys.app, name="keys")
app.add_typer(experts.app, name="experts")
app.add_typer(profile.app, name="profile")
app.add_typer(eval_cli.app, name="eval")
app.add_typer(docs.app, name="docs")
app.add_typer(gate.app, name="gate")
app.add_typer(workflow.app, name="workflow")

if __name__ == "__main__":
    app()
