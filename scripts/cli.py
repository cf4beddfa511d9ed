"""The `partnermatch` command. Each subcommand is a thin wrapper over catalog/, models/, service/."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from catalog.importers.upsert import ImportFailed, ImportReport
from catalog.repository import catalog_stats
from scripts import backup as backup_command
from scripts import bench as bench_command
from scripts import console_bench, demo_data, feedback_replay, report, slack_try
from scripts import evaluate as evaluate_command
from scripts import keys as keys_command
from scripts import load as load_command
from scripts.progress import ProgressBars
from scripts.runtime import cli_actor, open_runtime
from service.index.matcher import Matcher, make_matching_engine, read_status
from service.partners.imports import import_records
from service.settings import Settings

app = typer.Typer(help="partnermatch: partner recommendations for a Shopify agency.", no_args_is_help=True)
import_app = typer.Typer(help="Import partners and notes (idempotent: matched on source + external id).")
index_app = typer.Typer(help="The search index.")
catalog_app = typer.Typer(help="The partner catalog.")
app.add_typer(import_app, name="import")
app.add_typer(index_app, name="index")
app.add_typer(catalog_app, name="catalog")
app.add_typer(keys_command.app, name="keys")
app.command("evaluate")(evaluate_command.evaluate)
app.command("demo-data")(demo_data.demo_data)
app.command("report")(report.report)
app.command("feedback-replay")(feedback_replay.feedback_replay)
app.command("backup")(backup_command.backup)
app.command("restore")(backup_command.restore)
app.command("load")(load_command.load)
app.command("bench")(bench_command.bench)
app.command("slack-try")(slack_try.slack_try)
app.command("console-bench")(console_bench.console_bench)
console = Console(stderr=True)


def _run_import(load, files: list[Path], source: str | None = None, as_json: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Read, then write everything in one transaction (audited); refresh the index, showing its
    progress; end with a one-line summary (or the counts as JSON)."""
    started = time.monotonic()
    with ProgressBars(console) as progress:
        runtime = open_runtime(progress=progress)
        try:
            with console.status("reading…"):
                source_name, records, notes = load()
            with runtime.transaction() as session, console.status(f"importing {len(records)} partners…"):
                report: ImportReport = import_records(
                    session, cli_actor(), source or source_name, [str(f) for f in files], records, notes)
        except ImportFailed as failure:
            console.print(f"[red]{failure}[/red]")
            raise typer.Exit(2) from None
        matcher = runtime.matcher  # brought up to date with the import (encoding what is new)
    if as_json:
        typer.echo(json.dumps({**report.as_dict(), "indexed_partners": matcher.engine.count(),
                               "generation": matcher.generation}))
        return
    typer.echo(_import_summary(source or source_name, report, matcher.engine.count(),
                               time.monotonic() - started))


def _import_summary(source: str, report: ImportReport, indexed: int, seconds: float) -> str:
    counts = [f"{report.created:,} created", f"{report.updated:,} updated",
              f"{report.skipped:,} unchanged"]
    counts += [f"{report.rejected:,} rejected"] if report.rejected else []
    notes = report.notes_created + report.notes_updated
    noted = f"; notes: {report.notes_created:,} created, {report.notes_updated:,} updated" if notes else ""
    partners = "partner" if indexed == 1 else "partners"
    return (f"imported {source}: {', '.join(counts)}{noted}; the index holds {indexed:,} {partners} "
            f"({seconds:,.0f} s)")


JsonOption = Annotated[bool, typer.Option("--json", help="Print the counts as JSON")]


@import_app.command("shopify-appstore")
def import_shopify(
    folder: Annotated[Path, typer.Argument(help="Folder of the App Store CSV export")],
    as_json: JsonOption = False,
) -> None:
    """Import the Shopify App Store data set (apps, categories, benefits, plans)."""
    from catalog.importers.shopify import SOURCE, read_appstore

    _run_import(lambda: (SOURCE, read_appstore(folder), []), [folder], as_json=as_json)


@import_app.command("catalog")
def import_catalog(
    path: Annotated[Path, typer.Argument(help="A catalog file (YAML or JSON)")], as_json: JsonOption = False,
) -> None:
    """Import a catalog file in the project's own format (catalog/schema/catalog.schema.json)."""
    from catalog.importers.native import read_catalog

    def load():  # type: ignore[no-untyped-def]
        source, records = read_catalog(path)
        return source, records, []

    _run_import(load, [path], as_json=as_json)


@import_app.command("csv")
def import_csv(
    partners: Annotated[Path | None, typer.Option(help="Partners CSV")] = None,
    notes: Annotated[Path | None, typer.Option(help="Negotiation notes CSV")] = None,
    source: Annotated[str, typer.Option(help="Source name the rows belong to")] = "csv",
    as_json: JsonOption = False,
) -> None:
    """Import partners and/or negotiation notes from spreadsheet CSV files."""
    from catalog.importers.spreadsheet import read_notes_csv, read_partners_csv

    if partners is None and notes is None:
        raise typer.BadParameter("give --partners and/or --notes")
    _run_import(
        lambda: (
            source,
            read_partners_csv(partners) if partners else [],
            read_notes_csv(notes) if notes else [],
        ),
        [path for path in (partners, notes) if path],
        source,
        as_json,
    )


@index_app.command("build")
def index_build() -> None:
    """Rebuild the index from the database."""
    with ProgressBars(console) as progress:
        runtime = open_runtime(progress=progress)
        matcher = Matcher(runtime.settings, runtime.sessions, progress=progress)  # not started: no load
        count = matcher.rebuild()
    typer.echo(json.dumps({"partners": count, "generation": matcher.generation}))


@index_app.command("models")
def index_models() -> None:
    """Load the embedding models, exporting them to ONNX first (into PARTNERMATCH_ONNX_DIR) when
    that backend is chosen; the first start does it otherwise."""
    settings = Settings()
    engine = make_matching_engine(settings)
    typer.echo(json.dumps({"dense": engine.dense.name, "backend": settings.embedding_backend,
                           "onnx_dir": str(settings.onnx_dir),
                           "multilingual": engine.multilingual.name if engine.multilingual else None}))


@catalog_app.command("stats")
def stats(as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """Counts of partners (by source), notes and introductions; and the index's last build or
    background encoding as it stood (`index`: partners, vectors still pending, progress)."""
    runtime = open_runtime()
    with runtime.sessions() as session:
        result = catalog_stats(session)
    result["index"] = read_status(runtime.settings.index_dir)
    if as_json:
        typer.echo(json.dumps(result))
        return
    index = result.pop("index")
    for key, value in result.items():
        typer.echo(f"{key}: {value}")
    typer.echo(f"index: {_index_status(index)}")


def _index_status(index: object) -> str:
    """The index's last build or background encoding, in words."""
    if not isinstance(index, dict):
        return "not built here yet"
    partners, pending = int(index.get("partners") or 0), int(index.get("vectors_pending") or 0)
    held = f"{partners:,} partner{'' if partners == 1 else 's'}"
    if pending:
        return (f"{held}, {pending:,} still being encoded (searchable by keyword meanwhile), "
                f"as of {index.get('at')}")
    return f"{held}, every channel, generation {index.get('generation')}"


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="Uvicorn worker processes")] = 1,
) -> None:
    """Serve the HTTP API on the settings in the environment."""
    import uvicorn

    open_runtime()  # migrate once here, before workers start
    uvicorn.run(
        "service.app:build_app_from_environment", factory=True, host=host, port=port,
        workers=workers, log_config=None, access_log=False,
    )


if __name__ == "__main__":
    app()
