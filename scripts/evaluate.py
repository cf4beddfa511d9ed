"""`partnermatch evaluate`: matching quality over the loaded catalog, through the API's code path."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from catalog.tables import Partner
from models.evaluation import evaluate as run_evaluation
from models.evaluation import format_table, qrels_from_rows
from scripts.runtime import open_runtime

MODES = ("bm25", "dense", "full")
# The full pipeline runs first, so its timing includes encoding every query (the dense baseline
# would otherwise leave the English queries' MiniLM vectors in the cache for it).
RUN_ORDER = ("full", "bm25", "dense")


def evaluate(
    intents: Annotated[Path, typer.Option(help="Intents JSONL: {id, en, ja, need}")],
    qrels: Annotated[Path, typer.Option(help="Judgments JSONL: {intent, app_id, grade}")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """nDCG@10, Recall@50, MRR@10, judged@10 and JA/EN for BM25, dense and the full pipeline."""
    runtime = open_runtime()
    matcher = runtime.matcher
    with runtime.sessions() as session:
        external = dict(session.execute(select(Partner.id, Partner.external_id)).tuples().all())
    intent_rows, qrel_rows = _read_jsonl(intents), qrels_from_rows(_read_jsonl(qrels))
    report: dict[str, dict] = {}  # type: ignore[type-arg]
    timings: list[float] = []
    for mode in RUN_ORDER:
        def search(query: str, mode: str = mode) -> list[str]:
            started = time.perf_counter()
            result = matcher.search(query, 50, None, mode=mode)
            if mode == "full":
                timings.append((time.perf_counter() - started) * 1000)
            return [external.get(m.id, m.id) for m in result.candidates]

        report[mode] = run_evaluation(search, intent_rows, qrel_rows)
    report = {mode: report[mode] for mode in MODES}  # printed in the usual order
    summary = {
        "full_search_ms_median": round(statistics.median(timings), 2) if timings else None,
        "catalog_partners": matcher.engine.count(),
    }
    if as_json:
        typer.echo(json.dumps({**report, **summary}, indent=2, ensure_ascii=False))
    else:
        typer.echo(format_table(report))
        typer.echo(
            f"\n{summary['catalog_partners']} partners; full pipeline median search "
            f"{summary['full_search_ms_median']} ms"
        )


def _read_jsonl(path: Path) -> list[dict]:  # type: ignore[type-arg]
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    except (OSError, json.JSONDecodeError) as error:
        raise typer.BadParameter(f"{path}: {error}") from None
