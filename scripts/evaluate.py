"""`partnermatch evaluate`: matching quality over a catalog, through the API's code path.

The catalog is the loaded one, or a data-set folder (`--data`) imported into a database and index
of their own. Beside it, a variant of the data set with some listings rewritten (`--variant`,
e.g. in Japanese) is imported the same way and compared with it: parity and nDCG@10 kept. Both
scratch catalogs share the embedding cache, so only the listings whose text differs are encoded.
`--pm-intents` asks the same intents the way PMs type them, each style against its clean wording.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy import select

from catalog.tables import Partner
from models.evaluation import Row, format_table, kept, parity, qrels_from_rows, rows_of
from models.evaluation import evaluate as run_evaluation
from models.progress import Progress
from scripts.progress import ProgressBars
from scripts.runtime import Runtime, open_runtime, scratch_runtime
from service.partners.imports import import_records

MODES = ("bm25", "dense", "full")
# The full pipeline runs first, so its timing includes encoding every query (the dense baseline
# would otherwise leave the English queries' MiniLM vectors in the cache for it).
RUN_ORDER = ("full", "bm25", "dense")
# A PM's way of typing each intent, and the clean wording it is measured against.
PM_STYLES = {"ja_talk": "ja", "ja_typo": "ja", "en_talk": "en"}
VARIANT = "full, variant"


def evaluate(
    intents: Annotated[Path, typer.Option(help="Intents JSONL: {id, en, ja, need}")],
    qrels: Annotated[Path, typer.Option(help="Judgments JSONL: {intent, app_id, grade}")],
    data: Annotated[Path | None, typer.Option(
        help="A Shopify App Store data-set folder to evaluate instead of the loaded catalog")] = None,
    variant: Annotated[Path | None, typer.Option(
        help="The same data set with some listings rewritten (e.g. in Japanese): parity and "
        "nDCG@10 kept against the catalog evaluated")] = None,
    pm_intents: Annotated[Path | None, typer.Option(
        help="The intents as PMs type them, JSONL: {id, ja_talk, ja_typo, en_talk}")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """nDCG@10, Recall@50, MRR@10, judged@10 and JA/EN for BM25, dense and the full pipeline;
    with --variant and --pm-intents, the full pipeline on those too."""
    intent_rows, qrel_rows = _read_jsonl(intents), qrels_from_rows(_read_jsonl(qrels))
    timings: list[float] = []
    with ExitStack() as stack:
        progress = stack.enter_context(ProgressBars(Console(stderr=True)))
        runtime = (stack.enter_context(_dataset(data, progress)) if data
                   else open_runtime(progress=progress))
        reports = {mode: _run(runtime, mode, intent_rows, qrel_rows, timings) for mode in RUN_ORDER}
        rows = [row for mode in MODES for row in rows_of(mode, reports[mode])]
        summary: dict[str, Any] = {"catalog_partners": runtime.matcher.engine.count()}
        if variant:
            variant_runtime = stack.enter_context(_dataset(variant, progress))
            reports[VARIANT] = _run(variant_runtime, "full", intent_rows, qrel_rows, timings)
            rewritten = _rewritten(runtime, variant_runtime)
            rows += _variant_rows(reports["full"], reports[VARIANT], qrel_rows, rewritten)
            summary["variant_rewritten"] = len(rewritten)
        if pm_intents:
            styles = _run(runtime, "full", _read_jsonl(pm_intents), qrel_rows, timings,
                          tuple(PM_STYLES))
            reports["full, pm styles"] = styles
            rows += [Row("full", style, styles[style], kept=kept(styles[style], reports["full"][clean]))
                     for style, clean in PM_STYLES.items()]
    summary["full_search_ms_median"] = round(statistics.median(timings), 2) if timings else None
    if as_json:
        shown = {name: {k: v for k, v in report.items() if k != "ranked"}
                 for name, report in reports.items()}
        typer.echo(json.dumps({**shown, **summary}, indent=2, ensure_ascii=False))
        return
    typer.echo(format_table(rows))
    typer.echo(f"\n{summary['catalog_partners']} partners; full pipeline median search "
               f"{summary['full_search_ms_median']} ms")
    if variant:
        typer.echo(f"variant: {summary['variant_rewritten']} listings rewritten; kept = nDCG@10 over "
                   "the original catalog's, parity = their recall@50 over the original's")


def _run(
    runtime: Runtime, mode: str, intents: list[dict[str, str]], qrels: dict[str, dict[str, int]],
    timings: list[float], wordings: tuple[str, ...] = ("en", "ja"),
) -> dict[str, Any]:
    """One system's report, by external id (the judgments' app ids); full searches timed."""
    matcher = runtime.matcher
    with runtime.sessions() as session:
        external = dict(session.execute(select(Partner.id, Partner.external_id)).tuples().all())
    stage, asked = f"asking ({mode}, {'/'.join(wordings)})", [0]
    judged = [intent for intent in intents if any(g >= 1 for g in qrels.get(intent["id"], {}).values())]
    total = sum(1 for intent in judged for wording in wordings if intent.get(wording))

    def search(query: str) -> list[str]:
        asked[0] += 1
        runtime.progress(stage, min(asked[0], total), total)
        started = time.perf_counter()
        result = matcher.search(query, 50, None, mode=mode)
        if mode == "full":
            timings.append((time.perf_counter() - started) * 1000)
        return [external.get(m.id, m.id) for m in result.candidates]

    return run_evaluation(search, intents, qrels, wordings)


def _variant_rows(
    original: dict[str, Any], variant: dict[str, Any], qrels: dict[str, dict[str, int]],
    rewritten: set[str],
) -> list[Row]:
    return [
        Row(VARIANT, language, variant[language], kept=kept(variant[language], original[language]),
            parity=parity(original["ranked"][language], variant["ranked"][language], qrels, rewritten))
        for language in ("en", "ja")
    ]


@contextmanager
def _dataset(folder: Path, progress: Progress) -> Iterator[Runtime]:
    """A runtime over a data-set folder, imported into a temporary database and index."""
    from catalog.importers.shopify import SOURCE, read_appstore

    with tempfile.TemporaryDirectory(prefix="partnermatch-evaluate-") as scratch:
        runtime = scratch_runtime(Path(scratch), progress=progress)
        with runtime.transaction() as session:
            import_records(session, "evaluate", SOURCE, [str(folder)], read_appstore(folder))
        yield runtime


def _rewritten(original: Runtime, variant: Runtime) -> set[str]:
    """External ids of the listings whose text differs between two catalogs."""
    texts = [_listing_texts(runtime) for runtime in (original, variant)]
    return {key for key, text in texts[0].items() if texts[1].get(key, text) != text}


def _listing_texts(runtime: Runtime) -> dict[str, tuple[object, ...]]:
    columns = (Partner.external_id, Partner.name, Partner.description_en, Partner.description_ja,
               Partner.benefits, Partner.pricing_plans)
    with runtime.sessions() as session:
        return {row[0]: tuple(map(json.dumps, row[1:])) for row in session.execute(select(*columns))}


def _read_jsonl(path: Path) -> list[dict]:  # type: ignore[type-arg]
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    except (OSError, json.JSONDecodeError) as error:
        raise typer.BadParameter(f"{path}: {error}") from None
