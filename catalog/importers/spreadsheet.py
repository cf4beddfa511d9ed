"""Reader for the CSV files a partnership team keeps in a spreadsheet: partners, and dated notes.

Every problem is collected as `file:line: message` and raised together as ImportFailed, so a file
with one bad row writes nothing. Files are UTF-8, with or without the BOM Excel writes.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from catalog.importers.upsert import ImportFailed, ImportReport, apply_import
from catalog.revenue_share import checked_revenue_share
from catalog.vocabulary import NOTE_KINDS, NOTE_OUTCOMES, PARTNER_KINDS, PARTNER_STATUSES, PARTNER_TYPES

SOURCE = "csv"
PARTNER_COLUMNS = (
    "external_id", "name", "vendor", "kind", "partner_type", "status", "description_en",
    "description_ja", "capabilities", "categories", "platforms", "languages",
    "support_languages", "regions", "pricing_summary", "rating", "review_count", "url",
    "revenue_share_terms", *(f"revenue_share_{name}" for name in (
        "percent", "months", "per_go_live", "fee_period", "cap")),
)
SHARE_PREFIX = "revenue_share_"
PARTNER_REQUIRED = ("external_id", "name", "kind")
LIST_COLUMNS = (
    "capabilities", "categories", "platforms", "languages", "support_languages", "regions",
)
TEXT_COLUMNS = ("vendor", "pricing_summary", "url", "revenue_share_terms")
NOTE_COLUMNS = (
    "partner_external_id", "external_id", "date", "author", "kind", "body", "outcome", "terms",
    "confidential",
)
NOTE_REQUIRED = ("partner_external_id", "date", "kind", "body")
BOOLEANS = {
    "true": True, "yes": True, "1": True, "はい": True,
    "false": False, "no": False, "0": False, "いいえ": False,
}
BOOLEAN_WORDS = "true/false, yes/no, 1/0 or はい/いいえ"
_LIST_SEPARATOR = re.compile(r"[;、]")
_DATE = re.compile(r"^(\d{4})([-/])(\d{1,2})\2(\d{1,2})$")

Row = tuple[int, dict[str, str]]


class _Problems(list[str]):
    """Problems of one file, each prefixed with `file:line:`."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def add(self, line: int, message: str) -> None:
        self.append(f"{self.path}:{line}: {message}")


def read_partners_csv(path: Path) -> list[dict[str, Any]]:
    """Partner records for `apply_import`; a column left out of the file is left untouched."""
    problems = _Problems(path)
    rows = _rows(path, PARTNER_COLUMNS, PARTNER_REQUIRED)
    records = [(line, _partner(line, row, problems)) for line, row in rows]
    _check_unique(problems, [(line, r["external_id"]) for line, r in records], "external_id")
    if problems:
        raise ImportFailed(problems)
    return [record for _, record in records]


def read_notes_csv(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(partner external id, note record) pairs for `apply_import`.

    Each note carries its "origin" (`file:line`), so `apply_import` can say where a note naming
    an unknown partner comes from.
    """
    problems = _Problems(path)
    rows = _rows(path, NOTE_COLUMNS, NOTE_REQUIRED)
    notes = [(line, row["partner_external_id"], _note(line, row, problems)) for line, row in rows]
    # A derived id repeats when partner, date and body repeat: the same note entered twice.
    _check_unique(problems, [(line, n["external_id"]) for line, _, n in notes], "note id")
    if problems:
        raise ImportFailed(problems)
    return [(partner, note) for _, partner, note in notes]


def import_spreadsheets(
    session: Session, partners: Path | None, notes: Path | None, source: str = SOURCE
) -> ImportReport:
    """Read either file or both, then upsert everything; the caller owns the transaction."""
    records = read_partners_csv(partners) if partners else []
    return apply_import(session, source, records, read_notes_csv(notes) if notes else [])


def _rows(path: Path, columns: tuple[str, ...], required: tuple[str, ...]) -> Iterator[Row]:
    """Non-blank rows as {column: stripped text}, with the line each row starts on."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            yield from _parse(path, csv.reader(handle), columns, required)
    except FileNotFoundError:
        raise ImportFailed([f"{path}: file is missing"]) from None
    except UnicodeDecodeError:
        raise ImportFailed([f"{path}: not UTF-8 text (save it as 'CSV UTF-8')"]) from None
    except csv.Error as error:
        raise ImportFailed([f"{path}: {error}"]) from None


def _parse(
    path: Path, reader: Any, columns: tuple[str, ...], required: tuple[str, ...]
) -> Iterator[Row]:
    header = _header(path, next(reader, None), columns, required)
    start = reader.line_num + 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        cells = _trim_trailing(cells)
        if not cells:
            continue
        if len(cells) > len(header):
            raise ImportFailed([f"{path}:{line}: {len(cells)} cells, the header has {len(header)}"])
        cells += [""] * (len(header) - len(cells))
        yield line, {name: cell.strip() for name, cell in zip(header, cells, strict=True)}


def _header(
    path: Path, cells: list[str] | None, columns: tuple[str, ...], required: tuple[str, ...]
) -> list[str]:
    header = [cell.strip() for cell in _trim_trailing(cells or [])]
    unknown = [name for name in header if name not in columns]
    missing = [name for name in required if name not in header]
    doubled = sorted({name for name in header if header.count(name) > 1})
    problems = [f"{path}:1: unknown column {name!r}" for name in unknown]
    problems += [f"{path}:1: required column {name!r} is missing" for name in missing]
    problems += [f"{path}:1: column {name!r} appears twice" for name in doubled]
    if problems:
        problems.append(f"{path}:1: the columns are: {','.join(columns)}")
        raise ImportFailed(problems)
    return header


def _trim_trailing(cells: list[str]) -> list[str]:
    # Spreadsheets often save empty cells to the right of the data.
    while cells and not cells[-1].strip():
        cells = cells[:-1]
    return cells


def _partner(line: int, row: dict[str, str], problems: _Problems) -> dict[str, Any]:
    record: dict[str, Any] = {"external_id": row["external_id"], "name": row["name"],
                              "origin": f"{problems.path}:{line}"}
    for name in PARTNER_REQUIRED:
        if not row[name]:
            problems.add(line, f"{name} is empty")
    _choice(record, row, "kind", PARTNER_KINDS, line, problems)
    _choice(record, row, "partner_type", PARTNER_TYPES, line, problems)
    _choice(record, row, "status", PARTNER_STATUSES, line, problems, default="prospect")
    for name in ("description_en", "description_ja"):
        if name in row:
            record[name] = row[name]
    for name in TEXT_COLUMNS:
        if name in row:
            record[name] = row[name] or None
    for name in LIST_COLUMNS:
        if name in row:
            items = _LIST_SEPARATOR.split(row[name])
            record[name] = [item.strip() for item in items if item.strip()]
    _number(record, row, "rating", float, line, problems, lambda v: 0 <= v <= 5, "0 to 5")
    _number(record, row, "review_count", int, line, problems, lambda v: v >= 0, "0 or more")
    _revenue_share(record, row, line, problems)
    return record


def _revenue_share(record: dict[str, Any], row: dict[str, str], line: int,
                   problems: _Problems) -> None:
    """The `revenue_share_*` columns, when the file has them: all blank clears the terms;
    otherwise they are checked as the API checks them."""
    cells = {name.removeprefix(SHARE_PREFIX): row[name] for name in row
             if name.startswith(SHARE_PREFIX) and name != "revenue_share_terms"}
    if not cells:
        return
    given = {name: value.replace(",", "") for name, value in cells.items() if value}
    stored, bad = checked_revenue_share(given or None)
    for problem in bad:
        problems.add(line, problem)
    record["revenue_share"] = stored


def _choice(
    record: dict[str, Any], row: dict[str, str], name: str, allowed: tuple[str, ...],
    line: int, problems: _Problems, default: str | None = None,
) -> None:
    """An enum column: blank means the default, anything else must be one of `allowed`."""
    if name not in row:
        return
    value = row[name] or default
    if value is not None and value not in allowed:
        problems.add(line, f"{name} {value!r} is not one of {', '.join(allowed)}")
    record[name] = value


def _number(
    record: dict[str, Any], row: dict[str, str], name: str, kind: Callable[[str], Any],
    line: int, problems: _Problems, valid: Callable[[Any], bool], expected: str,
) -> None:
    if name not in row:
        return
    if not row[name]:
        record[name] = None
        return
    try:
        value = kind(row[name].replace(",", ""))  # "1,234" as a spreadsheet shows thousands
    except ValueError:
        problems.add(line, f"{name} {row[name]!r} is not a number")
        return
    if not valid(value):
        problems.add(line, f"{name} {value} is out of range ({expected})")
    record[name] = value


def _note(line: int, row: dict[str, str], problems: _Problems) -> dict[str, Any]:
    for name in NOTE_REQUIRED:
        if not row[name]:
            problems.add(line, f"{name} is empty")
    note: dict[str, Any] = {"date": _date(row["date"], line, problems), "body": row["body"]}
    _choice(note, row, "kind", NOTE_KINDS, line, problems)
    _choice(note, row, "outcome", NOTE_OUTCOMES, line, problems)
    for name in ("author", "terms"):
        if name in row:
            note[name] = row[name] or None
    _confidential(note, row, line, problems)
    note["external_id"] = row.get("external_id") or _derived_id(row, note["date"])
    note["origin"] = f"{problems.path}:{line}"
    return note


def _confidential(note: dict[str, Any], row: dict[str, str], line: int, problems: _Problems) -> None:
    """Only an explicit value sets it: a blank or missing cell keeps what an existing note has (a
    new note is not confidential), so a file that lost the column never makes notes public."""
    cell = row.get("confidential", "").lower()
    if cell in BOOLEANS:
        note["confidential"] = BOOLEANS[cell]
    elif cell:
        problems.add(line, f"confidential {row['confidential']!r} is not {BOOLEAN_WORDS}")


def _date(text: str, line: int, problems: _Problems) -> date | None:
    match = _DATE.match(text)
    try:
        if match:
            return date(int(match[1]), int(match[3]), int(match[4]))
    except ValueError:
        pass
    if text:
        problems.add(line, f"date {text!r} is not a date (YYYY-MM-DD or YYYY/MM/DD)")
    return None


def _derived_id(row: dict[str, str], day: date | None) -> str:
    """A note without an id gets one from partner, date and body, so re-importing finds it."""
    key = "\n".join((row["partner_external_id"], str(day), row["body"]))
    return f"csv-{hashlib.sha256(key.encode()).hexdigest()[:24]}"


def _check_unique(problems: _Problems, ids: list[tuple[int, str]], what: str) -> None:
    first_line: dict[str, int] = {}
    for line, external_id in ids:
        if external_id and external_id in first_line:
            problems.add(line, f"duplicate {what} {external_id!r} (first on line"
                               f" {first_line[external_id]})")
        first_line.setdefault(external_id, line)
