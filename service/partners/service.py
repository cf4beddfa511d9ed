"""Partners, their negotiation notes and contacts: the functions every face calls (the JSON API,
the Slack bot, the CLI, the web console). Each takes a session and plain values; the caller's
unit of work commits."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, Text, case, cast, func, select
from sqlalchemy.orm import Session

from catalog.tables import Contact, NegotiationNote, Partner, utcnow
from catalog.vocabulary import ARCHIVED, PARTNER_STATUSES
from service.audit import audit
from service.auth.callers import Caller, readable
from service.index.changes import catalog_changed
from service.records import apply_patch


@dataclass(frozen=True)
class PartnerFilters:
    name: str | None = None  # the name contains it
    kind: str | None = None
    status: str | None = None
    source: str | None = None
    category: str | None = None
    include_archived: bool = False


# How a list of partners is sorted: by a column, "-" first for descending; then by name.
PartnerSort = Literal["name", "-name", "status", "-status", "rating", "-rating", "updated", "-updated"]
PARTNER_SORTS: tuple[str, ...] = get_args(PartnerSort)


def list_partners(
    session: Session, filters: PartnerFilters, limit: int, offset: int, sort: str = "name"
) -> tuple[list[Partner], int]:
    """Partners filtered, sorted and paged (archived ones only when asked for), and their count."""
    query = select(Partner)
    if filters.name:
        query = query.where(Partner.name.ilike(f"%{filters.name}%"))
    for column, value in ((Partner.kind, filters.kind), (Partner.source, filters.source)):
        if value:
            query = query.where(column == value)
    if filters.status:
        query = query.where(Partner.status == filters.status)
    elif not filters.include_archived:
        query = query.where(Partner.status != ARCHIVED)
    if filters.category:
        query = query.where(_has_category(filters.category))
    query = query.order_by(*_order(sort))
    # counted without the sort and the wide columns: SQLite would sort whole rows to count
    counted = query.with_only_columns(Partner.id).order_by(None).subquery()
    total = session.scalar(select(func.count()).select_from(counted)) or 0
    return list(session.scalars(query.limit(limit).offset(offset))), total


def _order(sort: str) -> list[Any]:
    """A status sorts in the pipeline's order (archived last), a missing rating last either way."""
    if sort not in PARTNER_SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    name = sort.lstrip("-")
    column: Any = {
        "name": Partner.name, "rating": Partner.rating, "updated": Partner.updated_at,
        "status": case({s: n for n, s in enumerate(PARTNER_STATUSES)}, value=Partner.status,
                       else_=len(PARTNER_STATUSES)),
    }[name]
    key = column.desc() if sort.startswith("-") else column.asc()
    return [key.nulls_last(), Partner.name, Partner.id]


def _has_category(category: str) -> ColumnElement[bool]:
    """Categories are a JSON list, stored as its text on both databases: an element equal to
    `category` (ignoring ASCII case) is that text quoted, as the JSON encoder writes it."""
    element = json.dumps(category.lower())  # quoted, non-ASCII escaped as stored
    pattern = "%" + element.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return func.lower(cast(Partner.categories, Text)).like(pattern, escape="\\")


def create_partner(session: Session, caller: Caller, values: Mapping[str, Any]) -> Partner:
    """Add a partner; it is recommendable once the unit of work commits."""
    partner = Partner(source="manual", **values)
    session.add(partner)
    session.flush()
    audit(session, caller.label, "create", "partner", partner.id, dict(values))
    catalog_changed(session, partner.id)
    return partner


def update_partner(
    session: Session, caller: Caller, partner: Partner, changes: Mapping[str, Any]
) -> Partner:
    """Change the fields sent; a new status takes the partner out of the archive."""
    apply_patch(partner, changes)
    if "status" in changes:
        partner.archived_at = None
    partner.updated_at = utcnow()
    audit(session, caller.label, "update", "partner", partner.id, dict(changes))
    catalog_changed(session, partner.id)
    return partner


def archive_partner(session: Session, caller: Caller, partner: Partner) -> Partner:
    """Archive a partner (a soft delete: its notes and history stay); archiving twice is one."""
    if partner.status != ARCHIVED:
        partner.status = ARCHIVED
        partner.archived_at = partner.updated_at = utcnow()
        audit(session, caller.label, "archive", "partner", partner.id, {"status": ARCHIVED})
        catalog_changed(session, partner.id)
    return partner


# -- negotiation notes -----------------------------------------------------------------------


def visible_notes(partner: Partner, caller: Caller) -> list[NegotiationNote]:
    """The notes this caller may read, newest first: none for viewers, no confidential for pms."""
    return readable([n for n in partner.notes if n.deleted_at is None], caller)


def create_note(
    session: Session, caller: Caller, partner: Partner, values: Mapping[str, Any]
) -> NegotiationNote:
    """Add a dated note (today when no date is given, by the caller when no author is)."""
    values = {**values, "date": values.get("date") or date.today(),
              "author": values.get("author") or caller.name}
    note = NegotiationNote(partner_id=partner.id, **values)
    session.add(note)
    session.flush()
    audit(session, caller.label, "create", "note", note.id, values)
    _partner_text_changed(session, partner)
    return note


def update_note(
    session: Session, caller: Caller, note: NegotiationNote, changes: Mapping[str, Any]
) -> NegotiationNote:
    apply_patch(note, changes)
    audit(session, caller.label, "update", "note", note.id, dict(changes))
    _partner_text_changed(session, note.partner)
    return note


def delete_note(session: Session, caller: Caller, note: NegotiationNote) -> None:
    """Withdraw a note: it leaves lists and the index but is kept in the database."""
    note.deleted_at = utcnow()
    audit(session, caller.label, "delete", "note", note.id)
    _partner_text_changed(session, note.partner)


def _partner_text_changed(session: Session, partner: Partner) -> None:
    # Notes are indexed with their partner: a note change is a change of the partner's document.
    partner.updated_at = utcnow()
    catalog_changed(session, partner.id)


# -- contacts --------------------------------------------------------------------------------


def list_contacts(session: Session, partner: Partner) -> list[Contact]:
    query = select(Contact).where(Contact.partner_id == partner.id, Contact.deleted_at.is_(None))
    return list(session.scalars(query.order_by(Contact.name)))


def create_contact(
    session: Session, caller: Caller, partner: Partner, values: Mapping[str, Any]
) -> Contact:
    contact = Contact(partner_id=partner.id, **values)
    session.add(contact)
    session.flush()
    audit(session, caller.label, "create", "contact", contact.id, dict(values))
    return contact


def update_contact(
    session: Session, caller: Caller, contact: Contact, changes: Mapping[str, Any]
) -> Contact:
    apply_patch(contact, changes)
    audit(session, caller.label, "update", "contact", contact.id, dict(changes))
    return contact


def delete_contact(session: Session, caller: Caller, contact: Contact) -> None:
    """Remove a contact (kept in the database, hidden from lists)."""
    contact.deleted_at = utcnow()
    audit(session, caller.label, "delete", "contact", contact.id)
