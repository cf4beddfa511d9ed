"""The partner routes: the catalog (archiving instead of deleting), negotiation notes and contacts.
Confidential notes and revenue-share terms only for partner managers and admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from catalog.tables import Contact, NegotiationNote, Partner
from catalog.vocabulary import PartnerKind, PartnerStatus
from service.auth.callers import Caller
from service.http.deps import ManagerDep, PmDep, SessionDep, ViewerDep
from service.http.schemas import Limit, Offset
from service.partners import service
from service.partners.schemas import (
    ContactCreate,
    ContactRead,
    ContactUpdate,
    NoteCreate,
    NoteRead,
    NoteReadFull,
    NoteUpdate,
    PartnerCreate,
    PartnerPage,
    PartnerRead,
    PartnerReadFull,
    PartnerUpdate,
)
from service.records import get_or_404

router = APIRouter()  # what the app includes: the two below
partner_routes = APIRouter(tags=["partners"])
note_routes = APIRouter(tags=["notes and contacts"])


def _partner(partner_id: str, session: SessionDep) -> Partner:
    return get_or_404(session, Partner, partner_id)


def _note(note_id: str, session: SessionDep) -> NegotiationNote:
    return get_or_404(session, NegotiationNote, note_id, "note")


def _contact(contact_id: str, session: SessionDep) -> Contact:
    return get_or_404(session, Contact, contact_id)


PartnerDep = Annotated[Partner, Depends(_partner)]
NoteDep = Annotated[NegotiationNote, Depends(_note)]
ContactDep = Annotated[Contact, Depends(_contact)]


def present(partner: Partner, caller: Caller) -> PartnerRead:
    schema = PartnerReadFull if caller.sees_confidential else PartnerRead
    return schema.model_validate(partner)


def present_note(note: NegotiationNote, caller: Caller) -> NoteRead:
    schema = NoteReadFull if caller.sees_confidential else NoteRead
    return schema.model_validate(note)


@partner_routes.get("/v1/partners", response_model=PartnerPage)
def list_partners(
    session: SessionDep,
    caller: ViewerDep,
    q: Annotated[str | None, Query(max_length=200, description="Name contains")] = None,
    kind: PartnerKind | None = None,
    status: PartnerStatus | None = None,
    source: Annotated[str | None, Query(max_length=64)] = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    include_archived: bool = False,
    sort: Annotated[service.PartnerSort, Query(
        description="name, status (in the pipeline's order), rating, updated; `-`: descending")] = "name",
    limit: Limit = 50,
    offset: Offset = 0,
) -> PartnerPage:
    """List partners, filtered, sorted and paged (archived partners only on request)."""
    filters = service.PartnerFilters(q, kind, status, source, category, include_archived)
    page, total = service.list_partners(session, filters, limit, offset, sort)
    return PartnerPage(items=[present(p, caller) for p in page], total=total)


@partner_routes.get("/v1/partners/{partner_id}", response_model=PartnerReadFull | PartnerRead)
def read_partner(partner: PartnerDep, caller: ViewerDep) -> PartnerRead:
    """One partner; revenue-share terms only for partner managers and admins."""
    return present(partner, caller)


@partner_routes.post("/v1/partners", response_model=PartnerReadFull, status_code=201)
def create_partner(body: PartnerCreate, session: SessionDep, caller: ManagerDep) -> PartnerRead:
    """Add a partner; it is recommendable in the next request."""
    partner = service.create_partner(session, caller, body.model_dump(exclude_none=True))
    return present(partner, caller)


@partner_routes.patch("/v1/partners/{partner_id}", response_model=PartnerReadFull)
def update_partner(
    body: PartnerUpdate, partner: PartnerDep, session: SessionDep, caller: ManagerDep
) -> PartnerRead:
    """Change the fields sent; the index follows at once."""
    service.update_partner(session, caller, partner, body.model_dump(exclude_unset=True))
    return present(partner, caller)


@partner_routes.delete("/v1/partners/{partner_id}", response_model=PartnerReadFull)
def archive_partner(partner: PartnerDep, session: SessionDep, caller: ManagerDep) -> PartnerRead:
    """Archive a partner (a soft delete: its notes and history stay)."""
    return present(service.archive_partner(session, caller, partner), caller)


# -- negotiation notes -----------------------------------------------------------------------


@note_routes.get("/v1/partners/{partner_id}/notes", response_model=list[NoteReadFull] | list[NoteRead])
def list_notes(partner: PartnerDep, caller: PmDep) -> list[NoteRead]:
    """The partner's notes, newest first; confidential notes and every note's terms for partner
    managers and admins only."""
    return [present_note(note, caller) for note in service.visible_notes(partner, caller)]


@note_routes.post("/v1/partners/{partner_id}/notes", response_model=NoteReadFull, status_code=201)
def create_note(
    body: NoteCreate, partner: PartnerDep, session: SessionDep, caller: ManagerDep
) -> NegotiationNote:
    """Add a dated negotiation note (today when no date is given)."""
    return service.create_note(session, caller, partner, body.model_dump())


@note_routes.patch("/v1/notes/{note_id}", response_model=NoteReadFull)
def update_note(
    body: NoteUpdate, note: NoteDep, session: SessionDep, caller: ManagerDep
) -> NegotiationNote:
    """Change the fields sent."""
    return service.update_note(session, caller, note, body.model_dump(exclude_unset=True))


@note_routes.delete("/v1/notes/{note_id}", status_code=204)
def delete_note(note: NoteDep, session: SessionDep, caller: ManagerDep) -> Response:
    """Withdraw a note: it leaves lists and the index but is kept in the database."""
    service.delete_note(session, caller, note)
    return Response(status_code=204)


# -- contacts --------------------------------------------------------------------------------


@note_routes.get("/v1/partners/{partner_id}/contacts", response_model=list[ContactRead])
def list_contacts(partner: PartnerDep, session: SessionDep, caller: PmDep) -> list[Contact]:
    """The partner's contacts."""
    return service.list_contacts(session, partner)


@note_routes.post("/v1/partners/{partner_id}/contacts", response_model=ContactRead, status_code=201)
def create_contact(
    body: ContactCreate, partner: PartnerDep, session: SessionDep, caller: ManagerDep
) -> Contact:
    """Add a contact person."""
    return service.create_contact(session, caller, partner, body.model_dump())


@note_routes.patch("/v1/contacts/{contact_id}", response_model=ContactRead)
def update_contact(
    body: ContactUpdate, contact: ContactDep, session: SessionDep, caller: ManagerDep
) -> Contact:
    """Change the fields sent."""
    return service.update_contact(session, caller, contact, body.model_dump(exclude_unset=True))


@note_routes.delete("/v1/contacts/{contact_id}", status_code=204)
def delete_contact(contact: ContactDep, session: SessionDep, caller: ManagerDep) -> Response:
    """Remove a contact (kept in the database, hidden from lists)."""
    service.delete_contact(session, caller, contact)
    return Response(status_code=204)


router.include_router(partner_routes)
router.include_router(note_routes)
