"""The partner review (`partnermatch report --partner ID`): one partner's page for a quarterly
meeting, with no other partner's figures in it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scripts.cli import app as cli
from tests.helpers.kpis import MANAGER, typed_fixture
from tests.helpers.service import CANARY, Running


def review(running: Running, partner: str, out: Path, monkeypatch: pytest.MonkeyPatch,
           *args: str) -> str:
    monkeypatch.setenv("PARTNERMATCH_DATABASE_URL",
                       running.sessions.kw["bind"].url.render_as_string(hide_password=False))
    result = CliRunner().invoke(cli, ["report", "--partner", partner, "--period", "2026-Q2",
                                      "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def test_the_review_holds_one_partners_figures_only(
    running: Running, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = typed_fixture(running)
    running.client.put("/v1/kpi-targets", headers=running.headers(MANAGER), json={"targets": [
        {"period": "2026-Q2", "partner_id": ids["A"], "metric": "adoptions", "target": 2},
        {"period": "2026-Q2", "partner_id": ids["B"], "metric": "adoptions", "target": 7}]})
    english = review(running, ids["A"], tmp_path / "a.md", monkeypatch, "--lang", "en",
                     "--format", "md")
    assert "# Partner review: Teiki Subscriptions" in english
    # A's own figures, worked out in test_kpis.py: ¥40,000 sourced, 20% owed = ¥8,000
    assert "| ★ Adoptions | 1 |" in english and "| Partner-sourced revenue | ¥40,000 |" in english
    assert "| Revenue share owed | ¥8,000 |" in english
    assert "| Adoptions | at least 2 | 1 | 50% | missed |" in english
    # its introductions of the quarter (i1 live during it, i2), its notes, newest first
    assert "live 2026-03-25" in english and "churned 2026-05-20" in english
    assert english.index("2026-06-01") < english.index("2026-05-01")
    assert CANARY in english and "(confidential)" in english  # a manager's review
    # nothing of B or C: names, amounts, targets
    for other in ("Konbini Checkout", "Voice Reviews", "¥200,000", "at least 7", ids["B"],
                  "Lingua Store", "Otodoke Date"):
        assert other not in english, other
    japanese = review(running, ids["A"], tmp_path / "a.html", monkeypatch)
    assert "パートナーレビュー" in japanese and "<table>" in japanese and "未達" in japanese
    assert "Konbini Checkout" not in japanese and "¥200,000" not in japanese


def test_a_review_of_an_unknown_partner_or_as_csv_is_refused(
    running: Running, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PARTNERMATCH_DATABASE_URL",
                       running.sessions.kw["bind"].url.render_as_string(hide_password=False))
    assert CliRunner().invoke(cli, ["report", "--partner", "nope"]).exit_code == 2
    csv = CliRunner().invoke(cli, ["report", "--partner", running.ids["t-sub"], "--format", "csv"])
    assert csv.exit_code == 2
