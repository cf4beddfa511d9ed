"""Introductions of a partner to a client: their life cycle, and what feeds back into ranking.

proposed → adopted → live → churned, or rejected (from proposed or adopted; a rejected
introduction may be reopened as proposed or adopted). Moving to a status dates it: the date sent,
else the date already recorded, else today.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.repository import ADOPTED
from catalog.tables import Introduction, Partner, utcnow
from service.deps import catalog_changed, views_changed
from service.errors import BadRequest, Conflict
from service.kpis import Period, counted_revenue, intro_facts, parse_terms

NEXT = {
    "proposed": {"adopted", "live", "rejected"},
    "adopted": {"live", "rejected"},
    "live": {"churned"},
    "churned": set(),
    "rejected": {"proposed", "adopted"},
}
DATE_OF = {
    "proposed": "proposed_on", "adopted": "adopted_on", "live": "live_on",
    "churned": "churned_on", "rejected": "rejected_on",
}
ORDER = ("proposed_on", "adopted_on", "live_on", "churned_on")


def update_introduction(
    intro: Introduction, changes: dict[str, Any], today: date | None = None
) -> None:
    """Apply a PATCH: plain fields as sent, then the status move (checked), then date order."""
    today = today or date.today()
    status = changes.get("status")
    for name, value in changes.items():
        if name != "status":
            setattr(intro, name, value)
    if status is not None and status != intro.status:
        if status not in NEXT[intro.status]:
            allowed = ", ".join(sorted(NEXT[intro.status])) or "nothing"
            raise Conflict(f"a {intro.status} introduction can become {allowed}, not {status}")
        _move(intro, status, today)
    _check_dates(intro)


def _move(intro: Introduction, status: str, today: date) -> None:
    column = DATE_OF[status]
    setattr(intro, column, getattr(intro, column) or today)
    if status == "live":  # straight from proposed: adopted the day it went live
        intro.adopted_on = intro.adopted_on or intro.live_on
    if status in ("proposed", "adopted"):  # reopened: the rejection no longer stands
        intro.rejected_on = None
    intro.status = status


def _check_dates(intro: Introduction) -> None:
    dated = [(name, getattr(intro, name)) for name in ORDER if getattr(intro, name) is not None]
    for (earlier, first), (later, second) in zip(dated, dated[1:], strict=False):
        if second < first:
            raise BadRequest(f"{later} ({second}) is before {earlier} ({first})")


def list_introductions(
    session: Session, filters: dict[str, Any], limit: int, offset: int
) -> tuple[list[Introduction], int]:
    query = select(Introduction)
    for name in ("partner_id", "status", "request_id"):
        if filters.get(name):
            query = query.where(getattr(Introduction, name) == filters[name])
    if filters.get("client"):
        query = query.where(Introduction.client.ilike(f"%{filters['client']}%"))
    if filters.get("start"):
        query = query.where(Introduction.proposed_on >= filters["start"])
    if filters.get("end"):
        query = query.where(Introduction.proposed_on <= filters["end"])
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Introduction.proposed_on.desc(), Introduction.id).limit(limit).offset(offset)
    )
    return list(rows), total


def share_owed_to_date(intro: Introduction, today: date | None = None) -> int | None:
    """What the partner owes on this introduction so far under its terms (see service/kpis.py).
    Confidential: only for partner managers and admins, like the terms themselves."""
    terms = parse_terms(intro.partner.revenue_share_terms)
    if not terms.readable:
        return None
    facts = intro_facts(intro)
    to_date = Period(date.min, today or date.today())
    owed = counted_revenue(facts, to_date) * (terms.percent or 0) / 100
    if terms.per_go_live and facts.live_on is not None:
        owed += terms.per_go_live
    return int(owed)


def is_decided_adoption(status: str | None) -> bool | None:
    """How a status counts for the adoption signal: True, False, or None (undecided)."""
    if status in ADOPTED:
        return True
    return False if status == "rejected" else None


def introduction_changed(
    session: Session, partner: Partner, before: str | None, after: str, adoption_signal: bool
) -> bool:
    """Announce that an introduction of the partner was made (`before` None) or moved from one
    status to another: recommendations show its introductions by status (`views_changed`). With
    the adoption signal on, a move that changes the partner's adoption rate re-indexes it too,
    so the next ranking uses it. Returns whether the partner was marked for re-indexing.
    """
    if before == after:
        return False
    if adoption_signal and is_decided_adoption(before) != is_decided_adoption(after):
        partner.updated_at = utcnow()  # replicas re-read partners changed since their last sync
        catalog_changed(session, partner.id)
        return True
    views_changed(session)
    return False
