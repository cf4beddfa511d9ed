"""Negotiation notes and contacts of a partner. Confidential notes only for partner managers."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from catalog.tables import Contact, NegotiationNote, Partner, utcnow
from service.audit import audit
from service.deps import ManagerDep, PmDep, SessionDep, catalog_changed
from service.errors import NotFound
from service.recommend import visible_notes
from service.routes.partners import PartnerDep
from service.schemas import (
    ContactCreate,
    ContactRead,
    ContactUpdate,
    NoteCreate,
    NoteRead,
    NoteUpdate,
)

router = APIRouter(tags=["notes and contacts"])


def get_note(note_id: str, session: SessionDep) -> NegotiationNote:
    note = session.get(NegotiationNote, note_id)
    if note is None or note.deleted_at is not None:
        raise NotFound(f"no note {note_id}")
    return note


def get_contact(contact_id: str, session: SessionDep) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.deleted_at is not None:
        raise NotFound(f"no contact {contact_id}")
    return contact


NoteDep = Annotated[NegotiationNote, Depends(get_note)]
ContactDep = Annotated[Contact, Depends(get_contact)]


def _touch(session, partner: Partner) -> None:  # type: ignore[no-untyped-def]
    # Notes are indexed with their partner: a note change is a change of the partner's document.
    partner.updated_at = utcnow()
    catalog_changed(session, partner.id)


@router.get("/v1/partners/{partner_id}/notes", response_model=list[NoteRead])
def list_notes(partner: PartnerDep, caller: PmDep) -> list[NegotiationNote]:
    """The partner's notes, newest first (confidential ones for partner managers only)."""
    return visible_notes(partner, caller)


@router.post("/v1/partners/{partner_id}/notes", response_model=NoteRead, status_code=201)
def create_note(
    body: NoteCreate, partner: PartnerDep, session: SessionDep, caller: ManagerDep
) -> NegotiationNote:
    """Add a dated negotiation note (today when no date is given)."""
    values = body.model_dump()
    values["date"] = values["date"] or date.today()
    values["author"] = values["author"] or caller.name
    note = NegotiationNote(partner_id=partner.id, **values)
    session.add(note)
    session.flush()
    audit(session, caller.label, "create", "note", note.id, values)
    _touch(session, partner)
    return note


@router.patch("/v1/notes/{note_id}", response_model=NoteRead)
def update_note(
    body: NoteUpdate, note: NoteDep, session: SessionDep, caller: ManagerDep
) -> NegotiationNote:
    """Change the fields sent."""
    changes = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is not None or name in ("outcome", "terms", "author"):
            setattr(note, name, value)
    audit(session, caller.label, "update", "note", note.id, changes)
    _touch(session, note.partner)
    return note


@router.delete("/v1/notes/{note_id}", status_code=204)
def delete_note(note: NoteDep, session: SessionDep, caller: ManagerDep) -> Response:
    """Withdraw a note: it leaves lists and the index but is kept in the database."""
    note.deleted_at = utcnow()
    audit(session, caller.label, "delete", "note", note.id)
    _touch(session, note.partner)
    return Response(status_code=204)


@router.get("/v1/partners/{partner_id}/contacts", response_model=list[ContactRead])
def list_contacts(partner: PartnerDep, session: SessionDep, caller: PmDep) -> list[Contact]:
    """The partner's contacts."""
    query = select(Contact).where(Contact.partner_id == partner.id, Contact.deleted_at.is_(None))
    return list(session.scalars(query.order_by(Contact.name)))


@router.post("/v1/partners/{partner_id}/contacts", response_model=ContactRead, status_code=201)
def create_contact(
    body: ContactCreate, partner: PartnerDep, session: SessionDep, caller: ManagerDep
) -> Contact:
    """Add a contact person."""
    contact = Contact(partner_id=partner.id, **body.model_dump())
    session.add(contact)
    session.flush()
    audit(session, caller.label, "create", "contact", contact.id, body.model_dump())
    return contact


@router.patch("/v1/contacts/{contact_id}", response_model=ContactRead)
def update_contact(
    body: ContactUpdate, contact: ContactDep, session: SessionDep, caller: ManagerDep
) -> Contact:
    """Change the fields sent."""
    changes = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is not None or name != "name":
            setattr(contact, name, value)
    audit(session, caller.label, "update", "contact", contact.id, changes)
    return contact


@router.delete("/v1/contacts/{contact_id}", status_code=204)
def delete_contact(contact: ContactDep, session: SessionDep, caller: ManagerDep) -> Response:
    """Remove a contact (kept in the database, hidden from lists)."""
    contact.deleted_at = utcnow()
    audit(session, caller.label, "delete", "contact", contact.id)
    return Response(status_code=204)


