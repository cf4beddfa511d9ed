"""Catalog routes: partners (archiving instead of deleting)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select

from catalog.tables import Partner, utcnow
from service.audit import audit
from service.auth import Caller
from service.deps import ManagerDep, SessionDep, ViewerDep, catalog_changed
from service.errors import BadRequest, NotFound
from service.schemas import (
    PartnerCreate,
    PartnerKind,
    PartnerPage,
    PartnerRead,
    PartnerReadFull,
    PartnerStatus,
    PartnerUpdate,
)

router = APIRouter(prefix="/v1/partners", tags=["partners"])


def get_partner(partner_id: str, session: SessionDep) -> Partner:
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    return partner


PartnerDep = Annotated[Partner, Depends(get_partner)]


def present(partner: Partner, caller: Caller) -> PartnerRead:
    schema = PartnerReadFull if caller.sees_confidential else PartnerRead
    return schema.model_validate(partner)


@router.get("", response_model=PartnerPage)
def list_partners(
    session: SessionDep,
    caller: ViewerDep,
    q: Annotated[str | None, Query(max_length=200, description="Name contains")] = None,
    kind: PartnerKind | None = None,
    status: PartnerStatus | None = None,
    source: Annotated[str | None, Query(max_length=64)] = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    include_archived: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PartnerPage:
    """List partners, filtered and paged (archived partners only on request)."""
    query = select(Partner)
    if q:
        query = query.where(Partner.name.ilike(f"%{q}%"))
    if kind:
        query = query.where(Partner.kind == kind)
    if status:
        query = query.where(Partner.status == status)
    elif not include_archived:
        query = query.where(Partner.status != "archived")
    if source:
        query = query.where(Partner.source == source)
    query = query.order_by(Partner.name, Partner.id)
    if category:  # categories are a JSON list: filtered here, portable across both engines
        wanted = category.lower()
        rows = [p for p in session.scalars(query) if wanted in {c.lower() for c in p.categories}]
        total, page = len(rows), rows[offset : offset + limit]
    else:
        # counted without the sort and the wide columns: SQLite would sort whole rows to count
        counted = query.with_only_columns(Partner.id).order_by(None).subquery()
        total = session.scalar(select(func.count()).select_from(counted)) or 0
        page = list(session.scalars(query.limit(limit).offset(offset)))
    return PartnerPage(items=[present(p, caller) for p in page], total=total)


@router.get("/{partner_id}", response_model=PartnerReadFull | PartnerRead)
def read_partner(partner: PartnerDep, caller: ViewerDep) -> PartnerRead:
    """One partner; revenue-share terms only for partner managers and admins."""
    return present(partner, caller)


@router.post("", response_model=PartnerReadFull, status_code=201)
def create_partner(body: PartnerCreate, session: SessionDep, caller: ManagerDep) -> PartnerRead:
    """Add a partner; it is recommendable in the next request."""
    values = body.model_dump(exclude_none=True)
    partner = Partner(source="manual", **values)
    session.add(partner)
    session.flush()
    audit(session, caller.label, "create", "partner", partner.id, values)
    catalog_changed(session, partner.id)
    return present(partner, caller)


@router.patch("/{partner_id}", response_model=PartnerReadFull)
def update_partner(
    body: PartnerUpdate, partner: PartnerDep, session: SessionDep, caller: ManagerDep
) -> PartnerRead:
    """Change the fields sent; the index follows at once."""
    changes = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and not Partner.__table__.c[name].nullable:
            raise BadRequest(f"{name} cannot be null")
        setattr(partner, name, value)
    if "status" in changes:
        partner.archived_at = None
    partner.updated_at = utcnow()
    audit(session, caller.label, "update", "partner", partner.id, changes)
    catalog_changed(session, partner.id)
    return present(partner, caller)


@router.delete("/{partner_id}", response_model=PartnerReadFull)
def archive_partner(partner: PartnerDep, session: SessionDep, caller: ManagerDep) -> PartnerRead:
    """Archive a partner (a soft delete: its notes and history stay)."""
    if partner.status != "archived":
        partner.status = "archived"
        partner.archived_at = utcnow()
        partner.updated_at = utcnow()
        audit(session, caller.label, "archive", "partner", partner.id, {"status": "archived"})
        catalog_changed(session, partner.id)
    return present(partner, caller)
