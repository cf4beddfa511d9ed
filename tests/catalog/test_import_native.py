"""The project's own catalog format: reading, validating, and importing it idempotently."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from catalog.db import transaction
from catalog.importers.native import read_catalog
from catalog.importers.upsert import ImportFailed, ImportReport, apply_import
from catalog.tables import Contact, NegotiationNote, Partner

CATALOG: dict[str, Any] = {
    "source": "test",
    "disclaimer": "Fictional.",
    "partners": [
        {
            "external_id": "p-1",
            "name": "Sakura Payments",
            "vendor": "Sakura KK",
            "kind": "app",
            "partner_type": "reseller",
            "status": "active",
            "description_en": "Konbini and card payments.",
            "description_ja": "コンビニ決済とカード決済。",
            "capabilities": ["konbini-payment", "card-payment"],
            "categories": ["payments"],
            "platforms": ["Shopify"],
            "languages": ["ja", "en"],
            "regions": ["JP"],
            "rating": 4.5,
            "review_count": 120,
            "url": "https://sakura.example.com",
            "contacts": [
                {"name": "Yamada Taro", "role": "Partner manager", "email": "yamada@example.com"},
                {"name": "Abe Hana"},
            ],
            "notes": [
                {"external_id": "n-1", "date": "2024-04-01", "kind": "meeting",
                 "body": "Kick-off.", "outcome": "positive"},
                {"external_id": "n-2", "date": "2024-05-10", "kind": "contract",
                 "body": "Signed.", "terms": "15% revenue share", "confidential": True},
            ],
        },
        {"external_id": "p-2", "name": "Fuji Logistics", "kind": "service_partner"},
    ],
}


def write(tmp_path: Path, document: dict[str, Any], name: str = "catalog.yaml") -> Path:
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def import_file(factory: sessionmaker[Session], path: Path) -> ImportReport:
    with transaction(factory) as session:
        source, records = read_catalog(path)
        return apply_import(session, source, records)


def load_partner(factory: sessionmaker[Session], external_id: str) -> Partner:
    with factory() as session:
        query = select(Partner).where(Partner.external_id == external_id).options(
            selectinload(Partner.notes), selectinload(Partner.contacts)
        )
        return session.scalars(query).one()


def count(factory: sessionmaker[Session], table: type) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_read_fills_defaults(tmp_path: Path) -> None:
    source, records = read_catalog(write(tmp_path, CATALOG))

    assert source == "test"
    minimal = records[1]
    assert minimal["status"] == "prospect"
    assert (minimal["description_en"], minimal["description_ja"]) == ("", "")
    assert minimal["capabilities"] == minimal["regions"] == minimal["contacts"] == []
    assert minimal["notes"] == [] and minimal["rating"] is None
    first_note = records[0]["notes"][0]
    assert first_note["date"] == date(2024, 4, 1)
    # left out: an existing note keeps its confidentiality, a new one is stored as not confidential
    assert "confidential" not in first_note and first_note["terms"] is None


def test_yaml_and_json_read_the_same(tmp_path: Path) -> None:
    as_yaml = read_catalog(write(tmp_path, CATALOG, "catalog.yaml"))
    as_json = read_catalog(write(tmp_path, CATALOG, "catalog.json"))

    assert as_yaml == as_json


def test_unquoted_yaml_dates_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, CATALOG)
    path.write_text(path.read_text(encoding="utf-8").replace("'2024-04-01'", "2024-04-01"))

    _, records = read_catalog(path)

    assert records[0]["notes"][0]["date"] == date(2024, 4, 1)


def test_round_trip(session_maker: sessionmaker[Session], tmp_path: Path) -> None:
    report = import_file(session_maker, write(tmp_path, CATALOG))

    assert (report.created, report.notes_created) == (2, 2)
    partner = load_partner(session_maker, "p-1")
    assert partner.source == "test" and partner.vendor == "Sakura KK"
    assert partner.description_ja == "コンビニ決済とカード決済。"
    assert partner.capabilities == ["konbini-payment", "card-payment"]
    assert [c.name for c in partner.contacts] == ["Abe Hana", "Yamada Taro"]
    signed = next(n for n in partner.notes if n.external_id == "n-2")
    assert (signed.date, signed.confidential, signed.terms) == (
        date(2024, 5, 10), True, "15% revenue share",
    )


def test_second_run_changes_nothing(session_maker: sessionmaker[Session], tmp_path: Path) -> None:
    path = write(tmp_path, CATALOG)
    import_file(session_maker, path)

    report = import_file(session_maker, path)

    assert (report.created, report.updated, report.skipped) == (0, 0, 2)
    assert (report.notes_created, report.notes_updated, report.notes_skipped) == (0, 0, 2)
    assert (count(session_maker, NegotiationNote), count(session_maker, Contact)) == (2, 2)


def test_edit_updates_in_place(session_maker: sessionmaker[Session], tmp_path: Path) -> None:
    import_file(session_maker, write(tmp_path, CATALOG))
    before = load_partner(session_maker, "p-1")
    edited = copy.deepcopy(CATALOG)
    edited["partners"][0]["description_en"] = "Konbini, card and PayPay payments."
    edited["partners"][0]["notes"][0]["body"] = "Kick-off, with the CTO."
    edited["partners"][1]["contacts"] = [{"name": "Sato Jiro"}]

    report = import_file(session_maker, write(tmp_path, edited))

    assert (report.created, report.updated, report.skipped) == (0, 2, 0)
    assert (report.notes_created, report.notes_updated) == (0, 1)
    after = load_partner(session_maker, "p-1")
    assert after.id == before.id
    assert after.description_en == "Konbini, card and PayPay payments."
    assert count(session_maker, NegotiationNote) == 2


def test_validation_errors_name_file_partner_and_field(tmp_path: Path) -> None:
    broken = copy.deepcopy(CATALOG)
    broken["partners"][1]["kind"] = "wholesaler"
    broken["partners"][0]["notes"][1]["date"] = "2024-02-30"
    broken["partners"][0]["colour"] = "red"
    path = write(tmp_path, broken)

    with pytest.raises(ImportFailed) as caught:
        read_catalog(path)

    problems = caught.value.problems
    assert len(problems) == 3
    assert all(problem.startswith(f"{path}: partners[") for problem in problems)
    assert any("partners[1] (p-2): kind: 'wholesaler' is not one of" in p for p in problems)
    assert any("partners[0] (p-1): notes[1].date: '2024-02-30'" in p for p in problems)
    assert any("partners[0] (p-1): " in p and "'colour' was unexpected" in p for p in problems)


def test_duplicate_external_ids_are_refused(tmp_path: Path) -> None:
    doubled = copy.deepcopy(CATALOG)
    doubled["partners"][1]["external_id"] = "p-1"
    doubled["partners"][1]["notes"] = [copy.deepcopy(CATALOG["partners"][0]["notes"][0])]

    with pytest.raises(ImportFailed) as caught:
        read_catalog(write(tmp_path, doubled))

    assert "duplicate partner external_id 'p-1'" in str(caught.value)
    assert "duplicate note external_id 'n-1'" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("catalog.yaml", "partners: [unclosed", "cannot be read"),
        ("catalog.json", "{", "cannot be read"),
        ("catalog.toml", "source = 'x'", "expected a .yaml, .yml or .json file"),
        ("catalog.yaml", "partners: []", "'source' is a required property"),
    ],
)
def test_unreadable_files_are_refused(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ImportFailed) as caught:
        read_catalog(path)

    assert str(path) in str(caught.value) and message in str(caught.value)


def test_nothing_written_on_error(session_maker: sessionmaker[Session], tmp_path: Path) -> None:
    import_file(session_maker, write(tmp_path, CATALOG))
    broken = copy.deepcopy(CATALOG)
    broken["partners"][0]["description_en"] = "Changed."
    broken["partners"].append({"external_id": "p-3", "name": "", "kind": "app"})

    with pytest.raises(ImportFailed):
        import_file(session_maker, write(tmp_path, broken))

    assert count(session_maker, Partner) == 2
    assert load_partner(session_maker, "p-1").description_en == "Konbini and card payments."
