"""Structured revenue-share terms from the catalog file and the spreadsheet, checked as the API
checks them (one validation: `catalog/revenue_share.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.importers.native import read_catalog
from catalog.importers.spreadsheet import read_partners_csv
from catalog.importers.upsert import ImportFailed

CATALOG = """source: test
partners:
  - external_id: p1
    name: One
    kind: app
    revenue_share_terms: 初年度売上の15%（12ヶ月）、稼働1件につき¥30,000
    revenue_share: {{percent: 15, months: 12, per_go_live: 30000}}
  - external_id: p2
    name: Two
    kind: app
    revenue_share: {second}
"""


def test_the_catalog_file_reads_structured_terms(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG.format(second="{per_go_live: 1000, fee_period: monthly}"), "utf-8")
    _, records = read_catalog(path)
    assert records[0]["revenue_share"] == {"percent": 15.0, "months": 12, "per_go_live": 30_000,
                                           "fee_period": "one_off", "cap": None, "currency": "JPY"}
    assert records[1]["revenue_share"]["fee_period"] == "monthly"


@pytest.mark.parametrize(("second", "message"), [
    ("{cap: 10}", "terms need a percent or a fee per go-live"),
    ("{percent: 150}", "revenue_share.percent"),
    ("{percent: 10, fee_period: yearly}", "revenue_share.fee_period"),
    ("{percent: 10, bonus: 5}", "revenue_share.bonus"),
])
def test_the_catalog_file_refuses_terms_the_api_refuses(
    tmp_path: Path, second: str, message: str
) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG.format(second=second), "utf-8")
    with pytest.raises(ImportFailed) as refused:
        read_catalog(path)
    assert any("(p2)" in p and message in p for p in refused.value.problems), refused.value.problems


def test_the_spreadsheet_reads_structured_terms_in_columns(tmp_path: Path) -> None:
    path = tmp_path / "partners.csv"
    path.write_text(
        "external_id,name,kind,revenue_share_percent,revenue_share_months,"
        "revenue_share_per_go_live,revenue_share_fee_period,revenue_share_cap\n"
        'a,A,app,15,12,"30,000",,\n'
        "b,B,app,,,,,\n", "utf-8")
    records = read_partners_csv(path)
    assert records[0]["revenue_share"] == {"percent": 15.0, "months": 12, "per_go_live": 30_000,
                                           "fee_period": "one_off", "cap": None, "currency": "JPY"}
    assert records[1]["revenue_share"] is None  # all blank: no terms
    path.write_text("external_id,name,kind,revenue_share_percent,revenue_share_cap\n"
                    "a,A,app,abc,\nb,B,app,,5000\n", "utf-8")
    with pytest.raises(ImportFailed) as refused:
        read_partners_csv(path)
    assert [p.split(": ", 1)[0].rsplit(":", 1)[1] for p in refused.value.problems] == ["2", "3"]
