"""`symoe keys`: create, list and revoke API keys (stored hashed; shown once)."""

from __future__ import annotations

import typer
from rich.table import Table

from orchestrator.cli.common import console, deployment, err_console, friendly_errors, print_json
from orchestrator.db.keys import ROLES
from orchestrator.errors import InputError

app = typer.Typer(help="API keys for `symoe serve`.", no_args_is_help=True)


@app.command("create")
@friendly_errors
def create(
    role: str = typer.Option("user", help=f"{' | '.join(ROLES)}"),
    name: str = typer.Option("default", help="a label for the key"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a key and print it (the only time it is shown)."""
    with deployment() as dep:
        created = dep.stores.keys.create(name, role)
    if as_json:
        print_json(created.model_dump(mode="json"))
    else:
        console.print(created.key, highlight=False)
        err_console.print(f"key {created.id} ({created.role}) created; it is not shown again")


@app.command("list")
@friendly_errors
def list_keys(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every key with its role and whether it is revoked (never the key itself)."""
    with deployment() as dep:
        keys = dep.stores.keys.list()
    if as_json:
        print_json([k.model_dump(mode="json") for k in keys])
        return
    table = Table("id", "name", "role", "created", "revoked")
    for k in keys:
        table.add_row(
            k.id,
            k.name,
            k.role,
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
        )
    console.print(table)


@app.command("revoke")
@friendly_errors
def revoke(key_id: str = typer.Argument(..., help="the key's id (see `symoe keys list`)")) -> None:
    """Revoke a key: requests with it get 401 from then on."""
    with deployment() as dep:
        try:
            info = dep.stores.keys.revoke(key_id)
        except LookupError as exc:
            raise InputError(str(exc)) from None
    console.print(f"key {info.id} revoked")
