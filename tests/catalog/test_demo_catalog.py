"""The demo catalog shipped with the project: valid, large enough, bilingual, idempotent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import transaction
from catalog.importers.native import SCHEMA, read_catalog
from catalog.importers.upsert import ImportReport, apply_import

DEMO = Path(__file__).resolve().parents[2] / "catalog" / "data" / "demo_catalog.yaml"


@pytest.fixture(scope="module")
def demo() -> tuple[str, list[dict[str, Any]]]:
    return read_catalog(DEMO)


def import_demo(factory: sessionmaker[Session]) -> ImportReport:
    with transaction(factory) as session:
        source, records = read_catalog(DEMO)
        return apply_import(session, source, records)


def test_demo_validates_against_the_schema() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    # A plain safe_load: the dates must be quoted, as the schema asks, not only tolerated.
    document = yaml.load(DEMO.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)

    assert [error.message for error in validator.iter_errors(document)] == []


def test_demo_is_large_and_bilingual(demo: tuple[str, list[dict[str, Any]]]) -> None:
    _, partners = demo

    assert len(partners) >= 150
    assert sum(len(partner["notes"]) for partner in partners) >= 300
    assert [p["external_id"] for p in partners if not p["description_en"].strip()] == []
    assert [p["external_id"] for p in partners if not p["description_ja"].strip()] == []


def test_demo_imports_idempotently(
    session_maker: sessionmaker[Session], demo: tuple[str, list[dict[str, Any]]]
) -> None:
    _, partners = demo
    notes = sum(len(partner["notes"]) for partner in partners)

    first = import_demo(session_maker)
    second = import_demo(session_maker)

    assert (first.created, first.notes_created) == (len(partners), notes)
    assert (second.created, second.updated, second.skipped) == (0, 0, len(partners))
    assert (second.notes_created, second.notes_updated, second.notes_skipped) == (0, 0, notes)
