"""The partner vocabularies are defined once (catalog/vocabulary.py); the catalog file's JSON
Schema repeats them as enums, and must say the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

from catalog import vocabulary
from service.partners.schemas import NoteCreate, PartnerCreate

SCHEMA = Path(__file__).resolve().parents[2] / "catalog" / "schema" / "catalog.schema.json"


def enums() -> dict[str, list[str]]:
    definitions = json.loads(SCHEMA.read_text(encoding="utf-8"))["$defs"]
    partner, note = definitions["partner"]["properties"], definitions["note"]["properties"]
    return {
        "kind": partner["kind"]["enum"], "partner_type": partner["partner_type"]["enum"],
        "status": partner["status"]["enum"], "note_kind": note["kind"]["enum"],
        "outcome": note["outcome"]["enum"], "category": definitions["category"]["enum"],
        "platform": definitions["platform"]["enum"], "region": definitions["region"]["enum"],
    }


def test_the_catalog_schema_says_what_the_vocabularies_say() -> None:
    assert enums() == {
        "kind": list(vocabulary.PARTNER_KINDS), "partner_type": list(vocabulary.PARTNER_TYPES),
        "status": list(vocabulary.PARTNER_STATUSES), "note_kind": list(vocabulary.NOTE_KINDS),
        "outcome": list(vocabulary.NOTE_OUTCOMES), "category": list(vocabulary.CATEGORIES),
        "platform": list(vocabulary.PLATFORMS), "region": list(vocabulary.REGIONS),
    }


def test_the_api_schemas_take_their_choices_from_the_vocabularies() -> None:
    fields = PartnerCreate.model_fields
    assert get_args(fields["kind"].annotation) == vocabulary.PARTNER_KINDS
    assert set(get_args(get_args(fields["partner_type"].annotation)[0])) == set(vocabulary.PARTNER_TYPES)
    assert get_args(fields["status"].annotation) == vocabulary.PARTNER_STATUSES
    assert get_args(NoteCreate.model_fields["kind"].annotation) == vocabulary.NOTE_KINDS
