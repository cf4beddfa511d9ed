"""`partnermatch keys`: API keys, stored hashed; the key itself is shown once."""

from __future__ import annotations

from typing import Annotated

import typer

from scripts.runtime import cli_actor, open_runtime
from service.auth.callers import ROLES
from service.auth.keys import create_key, list_keys, revoke_key
from service.errors import NotFound

app = typer.Typer(help="API keys and their roles.", no_args_is_help=True)


@app.command("create")
def create(
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}")],
    name: Annotated[str, typer.Option(help="Who or what uses the key")],
) -> None:
    """Create a key; it is printed on the last line, once."""
    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}", param_hint="--role")
    runtime = open_runtime()
    with runtime.transaction() as session:
        row, key = create_key(session, name, role, actor=cli_actor())
    typer.echo(f"key id {row.id} ({role}, {name}); store the key now, it is not shown again:")
    typer.echo(key)


@app.command("list")
def list_() -> None:
    """Keys with their roles (never the keys themselves)."""
    runtime = open_runtime()
    with runtime.sessions() as session:
        typer.echo("id\tprefix\trole\tname\tstate")
        for row in list_keys(session):
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
            typer.echo(f"{row.id}\t{row.prefix}…\t{row.role}\t{row.name}\t{state}")


@app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key id from `keys list`")]) -> None:
    """Revoke a key at once."""
    runtime = open_runtime()
    try:
        with runtime.transaction() as session:
            revoke_key(session, key_id, actor=cli_actor())
    except NotFound as error:
        typer.echo(str(error.detail), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"revoked {key_id}")
