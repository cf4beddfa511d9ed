"""`partnermatch report`: the partnership KPIs, top partners, gaps and trend charts, in a file."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from models.glossary import Glossary
from scripts.runtime import open_runtime
from service.errors import BadRequest, NotFound
from service.kpis.metrics import Period, default_period
from service.kpis.report import (
    FORMATS,
    LANGUAGES,
    MissingFont,
    build_report,
    default_out,
    render,
)
from service.kpis.review import build_review, render_review
from service.kpis.targets import current_quarter, parse_period


def report(
    start: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD "
                                              "(default: 12 calendar months back)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, included (default: today)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="html (with charts), md or csv")] = "html",
    out: Annotated[Path | None, typer.Option(help="Output file (default: named by the period)")] = None,
    lang: Annotated[str, typer.Option("--lang", help="ja (default) or en")] = "ja",
    period_name: Annotated[str | None, typer.Option("--period", help="A quarter (2027-Q1) or a "
                                                    "month (2027-01) instead of --from/--to: "
                                                    "the one targets are set for")] = None,
    partner: Annotated[str | None, typer.Option("--partner", help="A partner's id: its one-page "
                                                "review for a quarterly meeting instead (html "
                                                "or md; by default the current quarter)")] = None,
) -> None:
    """Write the partnership report for a period: HTML with inline PNG charts, Markdown or CSV;
    one section per partner type, its KPIs first, with progress against the period's targets."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"one of {', '.join(FORMATS)}", param_hint="--format")
    if lang not in LANGUAGES:
        raise typer.BadParameter(f"one of {', '.join(LANGUAGES)}", param_hint="--lang")
    if partner is not None:
        _review(partner, start, end, period_name, fmt, out, lang)
        return
    period = _period(start, end, period_name)
    runtime = open_runtime()
    glossary = Glossary.load(runtime.settings.glossary_path)
    with runtime.sessions() as session:
        data = build_report(session, period, glossary, runtime.settings.gap_threshold, language=lang)
    path = out or Path(default_out(fmt, period))
    try:
        text = render(data, fmt)
    except MissingFont as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    path.write_text(text, encoding="utf-8")
    typer.echo(str(path))


def _review(partner: str, start: str | None, end: str | None, name: str | None, fmt: str,
            out: Path | None, lang: str) -> None:
    """Write one partner's review (see `service/kpis/review.py`)."""
    if fmt not in ("html", "md"):
        raise typer.BadParameter("html or md for a partner review", param_hint="--format")
    today = date.today()
    period = current_quarter(today) if not (start or end or name) else _period(start, end, name)
    runtime = open_runtime()
    with runtime.sessions() as session:
        try:
            review = build_review(session, partner, period, today, lang)
        except NotFound:
            raise typer.BadParameter(f"no partner {partner!r}", param_hint="--partner") from None
    path = out or Path(f"partner-review-{partner}-{period.start}-{period.end}.{fmt}")
    path.write_text(render_review(review, fmt), encoding="utf-8")
    typer.echo(str(path))


def _period(start: str | None, end: str | None, name: str | None) -> Period:
    if name is not None:
        if start or end:
            raise typer.BadParameter("give either --period or --from/--to")
        try:
            return parse_period(name)
        except BadRequest as error:
            raise typer.BadParameter(str(error.detail), param_hint="--period") from None
    try:
        last = date.fromisoformat(end) if end else date.today()
        first = date.fromisoformat(start) if start else default_period(last).start
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    if first > last:
        raise typer.BadParameter("--from is after --to")
    return Period(first, last)
