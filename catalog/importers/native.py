"""Reader for the project's own catalog format (YAML or JSON), described by catalog.schema.json."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError

from catalog.importers.upsert import ImportFailed
from catalog.revenue_share import checked_revenue_share

SCHEMA = Path(__file__).resolve().parents[1] / "schema" / "catalog.schema.json"
LIST_FIELDS = (
    "capabilities", "categories", "platforms", "languages", "support_languages", "regions",
)
OPTIONAL_FIELDS = (
    "vendor", "partner_type", "pricing_summary", "rating", "review_count", "url",
    "revenue_share_terms",
)
NOTE_OPTIONAL = ("author", "outcome", "terms")


# libyaml's parser when installed: the pure-Python one takes seconds on the demo catalog.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StringDates(_SafeLoader):  # type: ignore[misc, valid-type]
    """A safe loader that keeps dates as text: an unquoted 2024-05-01 validates like a quoted one."""


_StringDates.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_catalog(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """The file's source and its partners as `apply_import` records; ImportFailed on any fault."""
    document = _load(path)
    problems = [_describe(path, document, error) for error in _validator().iter_errors(document)]
    if not problems:
        problems = _duplicates(path, document["partners"]) + _bad_terms(path, document["partners"])
    if problems:
        raise ImportFailed(problems)
    return document["source"], [_record(partner) for partner in document["partners"]]


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _load(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise ImportFailed([f"{path}: expected a .yaml, .yml or .json file"])
    try:
        text = path.read_text(encoding="utf-8-sig")
        if suffix == ".json":
            return json.loads(text)
        return yaml.load(text, Loader=_StringDates)
    except FileNotFoundError:
        raise ImportFailed([f"{path}: file is missing"]) from None
    except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as error:
        raise ImportFailed([f"{path}: cannot be read: {error}"]) from None


def _describe(path: Path, document: Any, error: ValidationError) -> str:
    """`file: partners[3] (demo-004): notes[0].date: message` — where the fault is, then what."""
    where = list(error.absolute_path)
    label = ""
    if len(where) >= 2 and where[0] == "partners":
        partner = document["partners"][where[1]]
        external_id = partner.get("external_id") if isinstance(partner, dict) else None
        label = f"partners[{where[1]}]" + (f" ({external_id})" if external_id else "")
        where = where[2:]
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where).lstrip(".")
    return ": ".join(part for part in (str(path), label, field, error.message) if part)


def _duplicates(path: Path, partners: list[dict[str, Any]]) -> list[str]:
    """External ids must be unique in the file: partners, and notes across all partners."""
    partner_ids = Counter(p["external_id"] for p in partners)
    note_ids = Counter(n["external_id"] for p in partners for n in p.get("notes", []))
    return [
        f"{path}: duplicate {what} external_id {value!r} ({count} times)"
        for what, counts in (("partner", partner_ids), ("note", note_ids))
        for value, count in counts.items()
        if count > 1
    ]


def _bad_terms(path: Path, partners: list[dict[str, Any]]) -> list[str]:
    """Structured revenue-share terms are checked as the API checks them."""
    return [f"{path}: partners[{n}] ({partner['external_id']}): {problem}"
            for n, partner in enumerate(partners)
            for problem in checked_revenue_share(partner.get("revenue_share"))[1]]


def _record(partner: dict[str, Any]) -> dict[str, Any]:
    """Fill the defaults, so a field removed from the file is cleared in the database too."""
    record = {
        "external_id": partner["external_id"],
        "name": partner["name"],
        "kind": partner["kind"],
        "status": partner.get("status", "prospect"),
        "description_en": partner.get("description_en", ""),
        "description_ja": partner.get("description_ja", ""),
        **{name: list(partner.get(name, [])) for name in LIST_FIELDS},
        **{name: partner.get(name) for name in OPTIONAL_FIELDS},
    }
    # Left out, it keeps the terms a manager entered: structured terms are often typed in later.
    if "revenue_share" in partner:
        record["revenue_share"] = checked_revenue_share(partner["revenue_share"])[0]
    record["contacts"] = [
        {"name": c["name"], "role": c.get("role"), "email": c.get("email")}
        for c in partner.get("contacts", [])
    ]
    record["notes"] = [_note(note) for note in partner.get("notes", [])]
    return record


def _note(note: dict[str, Any]) -> dict[str, Any]:
    record = {
        "external_id": note["external_id"],
        "date": date.fromisoformat(note["date"]),
        "kind": note["kind"],
        "body": note["body"],
        **{name: note.get(name) for name in NOTE_OPTIONAL},
    }
    # Left out, it keeps what an existing note has (a new note is not confidential): a file that
    # lost the key never makes notes public.
    if "confidential" in note:
        record["confidential"] = note["confidential"]
    return record
