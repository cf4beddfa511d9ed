"""`partnermatch backup FILE` and `partnermatch restore FILE`: the whole database as JSON lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from catalog.backup import BackupError
from catalog.backup import backup as write_backup
from catalog.backup import restore as read_backup
from scripts.progress import ProgressBars
from scripts.runtime import cli_actor, open_runtime
from service.audit import audit
from service.index.matcher import Matcher


def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup (JSON lines)")],
) -> None:
    """Back up catalog, notes, contacts, introductions, feedback, initiatives, audit log and
    API keys (hashes only) from one consistent snapshot."""
    runtime = open_runtime()
    report = write_backup(runtime.database, file)
    typer.echo(json.dumps({"file": str(file), "rows": report.rows, "total": report.total}))


def restore(
    file: Annotated[Path, typer.Argument(help="A file written by `partnermatch backup`")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the contents of a database that is not empty "
                           "(its audit trail and key revocations are kept)")
    ] = False,
    revive_keys: Annotated[
        bool, typer.Option("--revive-keys", help="Give keys revoked since the backup the state the "
                           "file has (by default they stay revoked)")
    ] = False,
) -> None:
    """Restore a backup in one transaction, then rebuild the index from the restored catalog."""
    with ProgressBars(Console(stderr=True)) as progress:
        runtime = open_runtime(progress=progress)
        try:
            report = read_backup(runtime.database, file, force=force, revive_keys=revive_keys,
                                 progress=progress)
        except BackupError as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(2) from None
        with runtime.transaction() as session:
            audit(session, cli_actor(), "restore", "database", file.name,
                  {"file": str(file), "rows": report.total, "revive_keys": revive_keys})
        partners = Matcher(runtime.settings, runtime.sessions, progress=progress).rebuild()
    typer.echo(json.dumps({"file": str(file), "rows": report.rows, "total": report.total,
                           "indexed_partners": partners}))
