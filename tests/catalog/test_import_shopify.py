"""Importing the real Shopify App Store export (4,750 listings), and refusing corrupted copies."""

from __future__ import annotations

import csv
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import transaction
from catalog.importers.shopify import SOURCE, read_appstore
from catalog.importers.upsert import ImportFailed, ImportReport, apply_import
from catalog.tables import Base, Partner
from tests.helpers.database import require_appstore

pytestmark = pytest.mark.slow

FAQ_APP = "d6e49a3c-2f9f-4bfa-8c26-5d024faf2241"  # "FAQ Accordion | Help Center": 4 plans


@pytest.fixture(scope="module")
def listings() -> list[dict[str, Any]]:
    return read_appstore(require_appstore())


def import_records(factory: sessionmaker[Session], records: list[dict[str, Any]]) -> ImportReport:
    with transaction(factory) as session:
        return apply_import(session, SOURCE, records)


def row_counts(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def copy_export(tmp_path: Path) -> Path:
    return Path(shutil.copytree(require_appstore(), tmp_path / "export"))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def expected_plans(folder: Path, app_id: str) -> list[tuple[str, str, list[str]]]:
    """The app's plans with their features, read straight from the CSVs (headers swapped)."""
    plans = {r["id"]: r for r in read_csv(folder / "pricing_plans.csv") if r["app_id"] == app_id}
    features: dict[str, list[str]] = {plan_id: [] for plan_id in plans}
    for row in read_csv(folder / "pricing_plan_features.csv"):
        if row["app_id"] in plans:  # the column headed app_id holds the plan id
            assert row["pricing_plan_id"] == app_id
            features[row["app_id"]].append(row["feature"])
    return [(p["title"], p["price"], features[plan_id]) for plan_id, p in plans.items()]


def test_every_listing_becomes_a_partner(
    session_maker: sessionmaker[Session], listings: list[dict[str, Any]]
) -> None:
    report = import_records(session_maker, listings)

    assert (report.created, report.updated, report.skipped) == (4750, 0, 0)
    with session_maker() as session:
        partners = session.scalars(select(Partner)).all()
        faq = session.scalars(select(Partner).where(Partner.external_id == FAQ_APP)).one()
    assert len(partners) == 4750
    assert sum(len(p.categories) for p in partners) == 7376
    assert sum(len(p.benefits) for p in partners) == 12927
    assert sum(len(p.pricing_plans) for p in partners) == 8514
    assert sum(len(plan["features"]) for p in partners for plan in p.pricing_plans) == 23990
    plans = [(p["title"], p["price"], p["features"]) for p in faq.pricing_plans]
    assert plans == expected_plans(require_appstore(), FAQ_APP)
    assert sum(len(features) for _, _, features in plans) == 18


def test_corrected_headers_read_the_same(tmp_path: Path, listings: list[dict[str, Any]]) -> None:
    folder = copy_export(tmp_path)
    path = folder / "pricing_plan_features.csv"
    _, rows = path.read_text(encoding="utf-8").split("\n", 1)
    path.write_text("pricing_plan_id,app_id,feature\n" + rows, encoding="utf-8")

    assert read_appstore(folder) == listings


def test_reimport_skips_unchanged_and_updates_the_edited_listing(
    session_maker: sessionmaker[Session], listings: list[dict[str, Any]], tmp_path: Path
) -> None:
    import_records(session_maker, listings)
    with session_maker() as session:
        before = session.scalars(select(Partner).where(Partner.external_id == FAQ_APP)).one()

    again = import_records(session_maker, listings)
    folder = copy_export(tmp_path)
    edit_app(folder, FAQ_APP, tagline="Answers before they ask")
    edited = import_records(session_maker, read_appstore(folder))

    assert (again.created, again.updated, again.skipped) == (0, 0, 4750)
    assert (edited.created, edited.updated, edited.skipped) == (0, 1, 4749)
    with session_maker() as session:
        after = session.scalars(select(Partner).where(Partner.external_id == FAQ_APP)).one()
    assert after.id == before.id
    assert after.description_en == "Answers before they ask"


def edit_app(folder: Path, app_id: str, tagline: str) -> None:
    rows = read_csv(folder / "apps.csv")
    for row in rows:
        if row["id"] == app_id:
            row["tagline"] = tagline
    with (folder / "apps.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


# Each corruption edits a copy of the export and returns the `file:line` the error must name.
# apps.csv has one row per line (no multi-line fields), so line N holds app N - 1.


def truncate_apps_mid_row(folder: Path) -> str:
    path = folder / "apps.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    cut = lines[1999].index(",") + 4  # a few characters into the title of line 2000
    path.write_text("\n".join(lines[:1999] + [lines[1999][:cut]]), encoding="utf-8")
    return "apps.csv:2000:"


def replace_an_app_id(folder: Path) -> str:
    path = folder / "apps.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[100] = "not-a-uuid" + lines[100][36:]
    path.write_text("\n".join(lines), encoding="utf-8")
    return "apps.csv:101: bad app id 'not-a-uuid'"


def delete_key_benefits(folder: Path) -> str:
    (folder / "key_benefits.csv").unlink()
    return "key_benefits.csv: file is missing"  # no line to name: the whole file is gone


def benefit_for_unknown_app(folder: Path) -> str:
    path = folder / "key_benefits.csv"
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    path.write_text(text + f"{uuid.uuid4()},Ghost benefit,Nobody sells this\n", encoding="utf-8")
    return f"key_benefits.csv:{text.count(chr(10)) + 1}: unknown app id"


CORRUPTIONS = [truncate_apps_mid_row, replace_an_app_id, delete_key_benefits, benefit_for_unknown_app]


def test_corrupted_copies_are_refused_whole(
    session_maker: sessionmaker[Session], listings: list[dict[str, Any]], tmp_path: Path
) -> None:
    # One good import for all four corruptions: importing 4,750 listings is the slow part.
    import_records(session_maker, listings)
    before = row_counts(session_maker)

    for corrupt in CORRUPTIONS:
        folder = copy_export(tmp_path / corrupt.__name__)
        expected = corrupt(folder)
        with pytest.raises(ImportFailed) as caught, transaction(session_maker) as session:
            apply_import(session, SOURCE, read_appstore(folder))

        assert expected in str(caught.value), corrupt.__name__
        assert row_counts(session_maker) == before, corrupt.__name__
