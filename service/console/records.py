"""A manager edits and deletes a partner's notes and contacts on its page, through the domain
functions `PATCH` and `DELETE /v1/notes/{id}` and `/v1/contacts/{id}` call; a delete is asked
for on a page of its own (a link), confirmed by a form post."""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from catalog.tables import Contact, NegotiationNote, Partner
from service.console.web import PostedDep, UserDep, forbidden, render
from service.errors import NotFound
from service.http.deps import SessionDep
from service.partners import service as partners
from service.partners.schemas import ContactUpdate, NoteUpdate
from service.records import get_or_404

router = APIRouter(include_in_schema=False)


Kind = Literal["notes", "contacts"]  # as in the pages' paths
Row = TypeVar("Row", NegotiationNote, Contact)


def _row(session: Session, model: type[Row], partner_id: str, row_id: str) -> Row:
    """The note or contact of this partner (one of another partner is not found here)."""
    partner = get_or_404(session, Partner, partner_id)
    what = "note" if model is NegotiationNote else "contact"
    row = get_or_404(session, model, row_id, what)
    if row.partner_id != partner.id:
        raise NotFound(f"no {what} {row_id}")
    return row


def _either(session: Session, kind: Kind, partner_id: str, row_id: str) -> NegotiationNote | Contact:
    if kind == "notes":
        return _row(session, NegotiationNote, partner_id, row_id)
    return _row(session, Contact, partner_id, row_id)


@router.post("/partners/{partner_id}/notes/{note_id}")
def edit_note(
    request: Request, partner_id: str, note_id: str, user: PostedDep, session: SessionDep,
    kind: Annotated[str, Form()], body: Annotated[str, Form()], date: Annotated[str, Form()] = "",
    terms: Annotated[str, Form()] = "", confidential: Annotated[bool, Form()] = False,
) -> Response:
    """The note's form sends every field: blank terms clear them, a blank date keeps it."""
    if not user.caller.sees_confidential:
        return forbidden(request, user)
    note = _row(session, NegotiationNote, partner_id, note_id)
    sent = {"kind": kind, "body": body, "terms": terms.strip() or None, "confidential": confidential}
    changes = NoteUpdate.model_validate({**sent, **({"date": date} if date.strip() else {})})
    partners.update_note(session, user.caller, note, changes.model_dump(exclude_unset=True))
    return RedirectResponse(f"/partners/{partner_id}#note-{note.id}", status_code=303)


@router.post("/partners/{partner_id}/contacts/{contact_id}")
def edit_contact(
    request: Request, partner_id: str, contact_id: str, user: PostedDep, session: SessionDep,
    name: Annotated[str, Form()], role: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
) -> Response:
    """Every field sent: a blank role or email clears it."""
    if not user.caller.sees_confidential:
        return forbidden(request, user)
    contact = _row(session, Contact, partner_id, contact_id)
    changes = ContactUpdate.model_validate(
        {"name": name, "role": role.strip() or None, "email": email.strip() or None})
    partners.update_contact(session, user.caller, contact, changes.model_dump(exclude_unset=True))
    return RedirectResponse(f"/partners/{partner_id}#contacts", status_code=303)


@router.get("/partners/{partner_id}/{kind}/{row_id}/delete")
def confirm_deletion(
    request: Request, partner_id: str, kind: Kind, row_id: str, user: UserDep, session: SessionDep,
) -> HTMLResponse:
    if not user.caller.sees_confidential:
        return forbidden(request, user)
    row = _either(session, kind, partner_id, row_id)
    shown = (f"{row.date} · {row.body}" if isinstance(row, NegotiationNote)
             else " · ".join(v for v in (row.name, row.role, row.email) if v))
    return render(request, "confirm_delete.html", user, question=f"delete_{kind}_q", shown=shown,
                  action=request.url.path, back=f"/partners/{partner_id}#{kind}")


@router.post("/partners/{partner_id}/{kind}/{row_id}/delete")
def delete(
    request: Request, partner_id: str, kind: Kind, row_id: str, user: PostedDep, session: SessionDep,
) -> Response:
    if not user.caller.sees_confidential:
        return forbidden(request, user)
    row = _either(session, kind, partner_id, row_id)
    if isinstance(row, NegotiationNote):
        partners.delete_note(session, user.caller, row)
    else:
        partners.delete_contact(session, user.caller, row)
    return RedirectResponse(f"/partners/{partner_id}#{kind}", status_code=303)
