"""The demo data fills the demo catalog; the report (HTML with charts, Markdown, CSV) shows it."""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from catalog.db import session_factory, transaction
from catalog.generation import bump_generation
from catalog.importers.native import read_catalog
from catalog.importers.upsert import apply_import
from catalog.tables import Feedback, Initiative, Introduction, RecommendationRequest
from models.engine import MatchingEngine
from scripts.cli import app as cli
from scripts.demo_data import fill_demo_data
from service.index.matcher import Matcher
from service.kpis import metrics
from service.kpis.facts import load_facts
from service.kpis.replay import replay
from service.kpis.report import (
    SHOWN,
    ReportData,
    charts_png,
    cjk_font,
    render_csv,
    render_html,
    render_markdown,
    shown,
)
from service.settings import Settings

DEMO = Path(__file__).resolve().parents[3] / "catalog" / "data" / "demo_catalog.yaml"
TODAY = date(2026, 6, 30)
PERIOD = metrics.Period(date(2025, 7, 1), TODAY)
REQUESTS = 60
TABLES = (RecommendationRequest, Feedback, Introduction, Initiative)


def counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        return {t.__name__: session.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES}


class Remembering:
    """An embedder that remembers what it encoded: the demo catalog and the demo needs are the
    same in every test, so each text is encoded once per run."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.dimension = inner, inner.name, inner.dimension
        self._seen: dict[tuple[bool, str], np.ndarray] = {}

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), query=True)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), query=False)

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if (query, t) not in self._seen]
        if missing:
            encode = self.inner.encode_queries if query else self.inner.encode_documents
            self._seen.update(zip([(query, t) for t in missing], encode(missing), strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([self._seen[(query, t)] for t in texts])


@pytest.fixture(scope="session")
def remembering_parts(engine_parts: dict[str, Any]) -> dict[str, Any]:
    return {**engine_parts, "dense": Remembering(engine_parts["dense"]),
            "multilingual": Remembering(engine_parts["multilingual"])}


@pytest.fixture
def demo(
    database: Engine, tmp_path: Path, remembering_parts: dict[str, Any]
) -> tuple[sessionmaker[Session], Matcher, str]:
    """The demo catalog with demo data of REQUESTS requests up to TODAY."""
    url = database.url.render_as_string(hide_password=False)
    sessions = session_factory(database)
    source, records = read_catalog(DEMO)
    with transaction(sessions) as session:
        apply_import(session, source, records)
        bump_generation(session)
    settings = Settings(database_url=url, index_dir=tmp_path / "index")
    matcher = Matcher(settings, sessions, engine=MatchingEngine(**remembering_parts))
    matcher.start()
    with transaction(sessions) as session:
        fill_demo_data(session, matcher, TODAY, requests=REQUESTS)
    return sessions, matcher, url


@pytest.mark.slow
def test_demo_data_is_plausible_and_idempotent(
    demo: tuple[sessionmaker[Session], Matcher, str],
) -> None:
    sessions, matcher, _ = demo
    first = counts(sessions)
    assert first["RecommendationRequest"] == REQUESTS and first["Initiative"] > 0
    with sessions() as session:
        statuses = set(session.scalars(select(Introduction.status)))
        revenue = session.scalars(select(Introduction.revenue).where(Introduction.revenue > 0)).all()
        languages = set(session.scalars(select(RecommendationRequest.language)))
    assert {"proposed", "adopted", "rejected", "live"} <= statuses
    assert revenue and languages == {"ja", "en"}
    with transaction(sessions) as session:
        again = fill_demo_data(session, matcher, TODAY, requests=REQUESTS)
    assert again.requests == again.feedback == again.initiatives == 0
    assert counts(sessions) == first
    with sessions() as session:
        result = replay(session, matcher.engine)
    assert result["evaluated"] > 0
    for side in ("with_adoption", "without_adoption"):
        assert 0 < result[side]["ndcg@10"] <= 1 and 0 < result[side]["mrr@10"] <= 1


def run_report(
    url: str, fmt: str, out: Path, monkeypatch: pytest.MonkeyPatch, lang: str = "en"
) -> str:
    monkeypatch.setenv("PARTNERMATCH_DATABASE_URL", url)
    result = CliRunner().invoke(
        cli, ["report", "--from", str(PERIOD.start), "--to", str(PERIOD.end), "--format", fmt,
              "--out", str(out), "--lang", lang],
    )
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


@pytest.mark.slow
def test_report_shows_the_kpis_charts_and_gaps(
    demo: tuple[sessionmaker[Session], Matcher, str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sessions, _, url = demo
    with sessions() as session:
        expected = metrics.compute(load_facts(session), PERIOD)
        # two figures counted straight from the table, independently of service/kpis/
        proposed = session.scalar(select(func.count()).select_from(Introduction).where(
            Introduction.proposed_on.between(PERIOD.start, PERIOD.end))) or 0
        adopted = session.scalar(select(func.count()).select_from(Introduction).where(
            Introduction.status.in_(("adopted", "live", "churned")),
            Introduction.adopted_on.between(PERIOD.start, PERIOD.end))) or 0
    assert expected.introductions == proposed > 0 and expected.adoptions == adopted > 0
    assert expected.partner_sourced_revenue > 0

    page = run_report(url, "html", tmp_path / "report.html", monkeypatch)
    cards = dict(re.findall(r'data-kpi="(\w+)">([^<]*)<', page))
    assert cards == {name: shown(name, getattr(expected, name)) for name, _ in SHOWN}
    assert cards["introductions"] == str(proposed)
    assert cards["partner_sourced_revenue"] == f"¥{expected.partner_sourced_revenue:,}"
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 4
    for _, data in images:
        assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")
    assert "Coverage gaps" in page and "Top partners" in page
    assert re.search(r"<td>[^<]+</td><td class=\"n\">\d+</td>", page)  # a gap or partner row

    markdown = run_report(url, "md", tmp_path / "report.md", monkeypatch)
    assert f"| Introductions | {proposed} |" in markdown
    rows = list(csv.DictReader(io.StringIO(run_report(url, "csv", tmp_path / "r.csv", monkeypatch))))
    totals = {r["metric"]: r["value"] for r in rows if r["section"] == "total"}
    assert totals["partner_sourced_revenue"] == str(expected.partner_sourced_revenue)
    assert totals["adoptions"] == str(adopted)
    months = [r for r in rows if r["section"] == "month" and r["metric"] == "introductions"]
    assert len(months) == 12 and sum(int(r["value"]) for r in months) == proposed


def test_report_on_an_empty_catalog_still_renders(
    database: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = database.url.render_as_string(hide_password=False)
    page = run_report(url, "html", tmp_path / "empty.html", monkeypatch)
    assert 'data-kpi="adoption_rate">–<' in page and page.count("<img ") == 3


def test_report_refuses_a_bad_format_or_dates() -> None:
    for args in (["--format", "pdf"], ["--from", "2026-05-01", "--to", "2026-04-01"],
                 ["--from", "May"]):
        assert CliRunner().invoke(cli, ["report", *args]).exit_code == 2, args


def test_exports_neither_run_formulas_nor_carry_html() -> None:
    """A partner or a need named like a formula stays text in a spreadsheet; HTML in a name
    is shown, not rendered, by a Markdown viewer."""
    values = metrics.compute(metrics.Facts(), PERIOD)
    hostile = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tTab", "<img src=x onerror=alert(1)>"]
    data = ReportData(
        period=PERIOD, totals=values, partners=[(name, values) for name in hostile], months=[],
        gaps=[{"label": "=1+1", "requests": 2, "reasons": {"low_score": 2}, "queries": ["<b>x</b>"]}],
        threshold=0.034,
    )
    rows = list(csv.reader(io.StringIO(render_csv(data))))
    cells = {row[2] for row in rows if row[0] == "partner"} | {row[3] for row in rows if row[0] == "gap"}
    assert all(not cell.startswith(("=", "+", "-", "@", "\t")) for cell in cells)
    assert "'=HYPERLINK(\"http://x\",\"y\")" in cells and "'=1+1" in cells
    markdown = render_markdown(data)
    assert "<img" not in markdown and "<b>" not in markdown and "&lt;img src=x" in markdown


def test_charts_draw_japanese_names_with_a_japanese_font() -> None:
    """花道ペイ in a chart: drawn with a font that has its glyphs (a missing glyph is a warning,
    and warnings fail the tests), which is the CJK font the charts pick."""
    from matplotlib import font_manager

    values = metrics.compute(metrics.Facts(), PERIOD)
    data = ReportData(period=PERIOD, totals=values, partners=[("花道ペイ", values)],
                      months=[("2026-05", values)], gaps=[], threshold=0.034)
    charts = charts_png(data)
    assert len(charts) == 4 and all(png for _, png in charts)
    path = font_manager.findfont(font_manager.FontProperties(family=cjk_font()))
    assert "CJK" in path or "JP" in path or "Gothic" in path


def test_the_report_speaks_japanese_unless_asked_otherwise() -> None:
    values = metrics.compute(metrics.Facts(), PERIOD)
    gaps = [{"label": "ペット", "requests": 2, "reasons": {"low_score": 1, "not_a_fit": 1},
             "queries": ["ペットの相談"]}]
    japanese = ReportData(period=PERIOD, totals=values, partners=[("花道ペイ", values)],
                          months=[("2026-05", values)], gaps=gaps, threshold=0.034)
    page, markdown = render_html(japanese), render_markdown(japanese)
    for text in (page, markdown):
        assert "パートナーシップ・レポート" in text and "紹介数" in text and "定義" in text
        assert "関連度不足 1" in text and "すべて見送り 1" in text
        assert "low_score" not in text and "not_a_fit" not in text and "`" not in text
    english = render_markdown(replace(japanese, language="en"))
    assert "Partnership report" in english and "low relevance 1" in english and "`" not in english

