"""The one way rows enter the catalog: validated records upserted on (source, external_id)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.tables import Contact, NegotiationNote, Partner, utcnow
from catalog.vocabulary import NOTE_LIMITS, PARTNER_LIMITS, TAG_LIMIT

PARTNER_FIELDS = (
    "name", "vendor", "kind", "description_en", "description_ja", "capabilities", "categories",
    "platforms", "languages", "support_languages", "regions", "benefits", "pricing_plans",
    "pricing_summary", "rating", "review_count", "url", "partner_type", "status",
    "revenue_share_terms", "revenue_share",
)
NOTE_FIELDS = ("date", "author", "kind", "body", "outcome", "terms", "confidential")


class ImportFailed(Exception):
    """The input was refused as a whole; `problems` name the file and line of each fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n".join(problems[:20])
        more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"import refused, nothing was written:\n{shown}{more}")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    notes_created: int = 0
    notes_updated: int = 0
    notes_skipped: int = 0
    problems: list[str] = field(default_factory=list)
    # the ids of the partners created or changed, their notes included: what the index must read
    changed_partners: set[str] = field(default_factory=set)

    @property
    def changed(self) -> bool:
        return bool(self.changed_partners)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("problems", "changed_partners")}


def upsert_partners(
    session: Session, source: str, records: Iterable[dict[str, Any]], report: ImportReport
) -> dict[str, Partner]:
    """Create or update each record's partner in place; unchanged rows are skipped.

    Returns every partner of the source by external id, those of the records and the others.
    """
    # Contacts are loaded with the partners: one query instead of one per partner.
    query = select(Partner).where(Partner.source == source).options(selectinload(Partner.contacts))
    existing = {p.external_id: p for p in session.scalars(query)}
    changed = []
    for record in records:
        partner = existing.get(record["external_id"])
        if partner is None:
            partner = Partner(source=source, external_id=record["external_id"])
            _assign(partner, record, PARTNER_FIELDS)
            _replace_contacts(partner, record)
            session.add(partner)
            report.created += 1
            changed.append(partner)
        # Both sides always run: an edited contact alone is an update too.
        elif _assign(partner, record, PARTNER_FIELDS) | _replace_contacts(partner, record):
            report.updated += 1
            changed.append(partner)
        else:
            report.skipped += 1
        existing[record["external_id"]] = partner
    session.flush()
    report.changed_partners.update(partner.id for partner in changed)
    return existing


def upsert_notes(
    session: Session,
    source: str,
    notes: Iterable[tuple[Partner, dict[str, Any]]],
    report: ImportReport,
) -> None:
    """Create or update each (partner, note) pair; one query for all of the source's notes.

    Notes are matched by external id within the source, not the partner: a note moved to another
    partner is updated in place instead of colliding with the unique (source, external_id).
    Notes are indexed with their partner: a partner whose notes change is a changed partner
    (its `updated_at` moves, which other processes follow), and so is the one a note left.
    """
    query = select(NegotiationNote).where(NegotiationNote.source == source)
    known = {n.external_id: n for n in session.scalars(query)}
    for partner, record in notes:
        note = known.get(record["external_id"])
        if note is None:
            note = NegotiationNote(source=source, external_id=record["external_id"])
            note.partner_id = partner.id
            _assign(note, record, NOTE_FIELDS)
            session.add(note)
            known[note.external_id] = note
            report.notes_created += 1
        else:
            left = note.partner
            if not _assign(note, {**record, "partner_id": partner.id}, NOTE_FIELDS + ("partner_id",)):
                report.notes_skipped += 1
                continue
            report.notes_updated += 1
            _text_changed(left, report)
        _text_changed(partner, report)


def _text_changed(partner: Partner, report: ImportReport) -> None:
    partner.updated_at = utcnow()
    report.changed_partners.add(partner.id)


def _assign(row: Any, record: dict[str, Any], fields: tuple[str, ...]) -> bool:
    changed = False
    for name in fields:
        if name not in record:
            continue
        value = record[name]
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _replace_contacts(partner: Partner, record: dict[str, Any]) -> bool:
    """Replace the contacts when the record lists others; a record without the key keeps them."""
    if "contacts" not in record:
        return False
    current = [(c.name, c.role, c.email) for c in partner.contacts if c.deleted_at is None]
    wanted = [(c["name"], c.get("role"), c.get("email")) for c in record["contacts"]]
    # The relationship loads contacts ordered by name, so compare as sorted lists.
    if sorted(current, key=_text_key) == sorted(wanted, key=_text_key):
        return False
    partner.contacts[:] = [Contact(name=n, role=r, email=e) for n, r, e in wanted]
    return True


def _text_key(values: tuple[str | None, ...]) -> tuple[str, ...]:
    return tuple(value or "" for value in values)


def apply_import(
    session: Session,
    source: str,
    records: list[dict[str, Any]],
    notes: list[tuple[str, dict[str, Any]]] = (),  # type: ignore[assignment]
) -> ImportReport:
    """Upsert partners (each record may carry "notes" and "contacts") and loose notes.

    Loose notes name their partner by external id within `source`; a note may carry an "origin"
    (`file:line`) for the error when that partner is unknown. The caller owns the transaction:
    nothing is committed here, so a failure leaves the database unchanged.
    """
    _check_lengths(records, notes)
    report = ImportReport()
    partners = upsert_partners(session, source, records, report)
    _check_partners_known(source, notes, partners)
    pairs = [
        (partners[record["external_id"]], note)
        for record in records
        for note in record.get("notes", [])
    ]
    pairs += [(partners[external_id], note) for external_id, note in notes]
    upsert_notes(session, source, pairs, report)
    session.flush()
    return report


LIST_FIELDS = ("capabilities", "categories", "platforms", "languages", "support_languages", "regions")


def _check_lengths(records: list[dict[str, Any]], notes: list[tuple[str, dict[str, Any]]]) -> None:
    """Refuse, as the API does, text longer than a field takes (`catalog/vocabulary.py`)."""
    problems = []
    for record in records:
        where = record.get("origin") or f"partner {str(record.get('external_id'))[:40]!r}"
        problems += _too_long(where, record, PARTNER_LIMITS)
        problems += [f"{where}: an item of {name} is longer than {TAG_LIMIT} characters"
                     for name in LIST_FIELDS
                     if any(len(str(v)) > TAG_LIMIT for v in record.get(name) or ())]
        for note in record.get("notes", []):
            problems += _too_long(note.get("origin") or f"{where}, a note", note, NOTE_LIMITS)
    for _, note in notes:
        problems += _too_long(note.get("origin") or "a note", note, NOTE_LIMITS)
    if problems:
        raise ImportFailed(problems)


def _too_long(where: str, record: dict[str, Any], limits: dict[str, int]) -> list[str]:
    return [f"{where}: {name} is longer than {limit} characters ({len(record[name])})"
            for name, limit in limits.items()
            if isinstance(record.get(name), str) and len(record[name]) > limit]


def _check_partners_known(
    source: str, notes: list[tuple[str, dict[str, Any]]], partners: dict[str, Partner]
) -> None:
    problems = [
        f"{note.get('origin', 'notes')}: partner_external_id {external_id!r} is neither in this"
        f" import nor stored under source {source!r}"
        for external_id, note in notes
        if external_id not in partners
    ]
    if problems:
        raise ImportFailed(problems)
