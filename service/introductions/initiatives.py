"""Joint initiatives with partners: co-hosted events, co-promotions, co-selling, referral swaps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from catalog.tables import Initiative, Partner
from service.audit import audit
from service.auth.callers import Caller
from service.errors import BadRequest
from service.introductions.schemas import InitiativeRead
from service.records import apply_patch, get_or_404


@dataclass(frozen=True)
class InitiativeFilters:
    partner_id: str | None = None
    kind: str | None = None
    status: str | None = None
    start: date | None = None  # ending on or after
    end: date | None = None  # starting on or before


def list_initiatives(
    session: Session, filters: InitiativeFilters, limit: int, offset: int
) -> tuple[list[Initiative], int]:
    """Joint initiatives, latest start first, and their count; `start`/`end` keep those
    overlapping the dates."""
    query = select(Initiative)
    for column, value in ((Initiative.partner_id, filters.partner_id),
                          (Initiative.kind, filters.kind), (Initiative.status, filters.status)):
        if value:
            query = query.where(column == value)
    if filters.start:
        query = query.where(or_(Initiative.end_date.is_(None), Initiative.end_date >= filters.start))
    if filters.end:
        query = query.where(or_(Initiative.start_date.is_(None), Initiative.start_date <= filters.end))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = (Initiative.start_date.desc().nulls_last(), Initiative.id)
    return list(session.scalars(query.order_by(*order).limit(limit).offset(offset))), total


def create_initiative(session: Session, caller: Caller, values: Mapping[str, Any]) -> Initiative:
    """Start tracking a joint initiative with a partner (the caller owns it unless told)."""
    get_or_404(session, Partner, values["partner_id"])
    values = {**values, "owner": values.get("owner") or caller.name}
    initiative = Initiative(**values)
    session.add(initiative)
    session.flush()
    audit(session, caller.label, "create", "initiative", initiative.id, values)
    return initiative


def update_initiative(
    session: Session, caller: Caller, initiative: Initiative, changes: Mapping[str, Any]
) -> Initiative:
    apply_patch(initiative, changes)
    if initiative.start_date and initiative.end_date and initiative.end_date < initiative.start_date:
        raise BadRequest("end_date is before start_date")
    session.flush()
    audit(session, caller.label, "update", "initiative", initiative.id, dict(changes))
    return initiative


def delete_initiative(session: Session, caller: Caller, initiative: Initiative) -> None:
    """Delete an initiative entered by mistake (the audit trail keeps what it was)."""
    snapshot = InitiativeRead.model_validate(initiative).model_dump(mode="json")
    session.delete(initiative)
    audit(session, caller.label, "delete", "initiative", initiative.id, snapshot)
