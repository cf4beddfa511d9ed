"""Joint initiatives with partners: co-hosted events, co-promotions, co-selling, referral swaps."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import func, or_, select

from catalog.tables import Initiative
from service.audit import audit
from service.deps import ManagerDep, SessionDep
from service.errors import BadRequest, NotFound
from service.routes.partners import get_partner
from service.schemas_kpi import (
    InitiativeCreate,
    InitiativeKind,
    InitiativePage,
    InitiativeRead,
    InitiativeStatus,
    InitiativeUpdate,
    date_query,
)

router = APIRouter(prefix="/v1/initiatives", tags=["initiatives"])


def get_initiative(initiative_id: str, session: SessionDep) -> Initiative:
    initiative = session.get(Initiative, initiative_id)
    if initiative is None:
        raise NotFound(f"no initiative {initiative_id}")
    return initiative


InitiativeDep = Annotated[Initiative, Depends(get_initiative)]


@router.get("", response_model=InitiativePage)
def list_initiatives(
    session: SessionDep,
    caller: ManagerDep,
    partner_id: Annotated[str | None, Query(max_length=36)] = None,
    kind: InitiativeKind | None = None,
    status: InitiativeStatus | None = None,
    start: Annotated[date | None, date_query("from", "Ending on or after")] = None,
    end: Annotated[date | None, date_query("to", "Starting on or before")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> InitiativePage:
    """Joint initiatives, latest start first; `from`/`to` keep those overlapping the dates."""
    query = select(Initiative)
    for column, value in ((Initiative.partner_id, partner_id), (Initiative.kind, kind),
                          (Initiative.status, status)):
        if value:
            query = query.where(column == value)
    if start:
        query = query.where(or_(Initiative.end_date.is_(None), Initiative.end_date >= start))
    if end:
        query = query.where(or_(Initiative.start_date.is_(None), Initiative.start_date <= end))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = (Initiative.start_date.desc().nulls_last(), Initiative.id)
    rows = session.scalars(query.order_by(*order).limit(limit).offset(offset))
    return InitiativePage(items=[InitiativeRead.model_validate(r) for r in rows], total=total)


@router.post("", response_model=InitiativeRead, status_code=201)
def create_initiative(
    body: InitiativeCreate, session: SessionDep, caller: ManagerDep
) -> Initiative:
    """Start tracking a joint initiative with a partner (owner, dates, status, outcome)."""
    get_partner(body.partner_id, session)
    values = body.model_dump()
    values["owner"] = values["owner"] or caller.name
    initiative = Initiative(**values)
    session.add(initiative)
    session.flush()
    audit(session, caller.label, "create", "initiative", initiative.id, values)
    return initiative


@router.get("/{initiative_id}", response_model=InitiativeRead)
def read_initiative(initiative: InitiativeDep, caller: ManagerDep) -> Initiative:
    """One joint initiative."""
    return initiative


@router.patch("/{initiative_id}", response_model=InitiativeRead)
def update_initiative(
    body: InitiativeUpdate, initiative: InitiativeDep, session: SessionDep, caller: ManagerDep
) -> Initiative:
    """Change the fields sent, e.g. the status and outcome when it ends."""
    changes = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name in ("kind", "title", "status"):
            raise BadRequest(f"{name} cannot be null")
        setattr(initiative, name, value)
    if initiative.start_date and initiative.end_date and initiative.end_date < initiative.start_date:
        raise BadRequest("end_date is before start_date")
    session.flush()
    audit(session, caller.label, "update", "initiative", initiative.id, changes)
    return initiative


@router.delete("/{initiative_id}", status_code=204)
def delete_initiative(initiative: InitiativeDep, session: SessionDep, caller: ManagerDep) -> Response:
    """Delete an initiative entered by mistake (the audit trail keeps what it was)."""
    snapshot = InitiativeRead.model_validate(initiative).model_dump(mode="json")
    session.delete(initiative)
    audit(session, caller.label, "delete", "initiative", initiative.id, snapshot)
    return Response(status_code=204)
