"""Introductions of a partner to a client: listing them, a manager's changes, what is owed on
them, and what feeds back into ranking. Their life cycle is `lifecycle.py`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from catalog.tables import Feedback, Introduction, Partner, RecommendationRequest, utcnow
from catalog.vocabulary import ADOPTED
from service.audit import audit
from service.auth.callers import Caller
from service.index.changes import catalog_changed, views_changed
from service.introductions.lifecycle import DATE_OF, check_dates, check_move, move
from service.kpis.facts import intro_facts
from service.kpis.metrics import owed_to_date
from service.kpis.terms import ShareTerms
from service.records import apply_patch


@dataclass(frozen=True)
class IntroductionFilters:
    partner_id: str | None = None
    status: str | None = None
    client: str | None = None  # the client contains it
    request_id: str | None = None
    start: date | None = None  # proposed on or after
    end: date | None = None  # proposed on or before
    proposed_by: str | None = None  # a caller's label: of their requests, or given their feedback


def list_introductions(
    session: Session, filters: IntroductionFilters, limit: int, offset: int
) -> tuple[list[Introduction], int]:
    """Introductions, newest proposal first, filtered and paged, and their count."""
    query = select(Introduction)
    for column, value in ((Introduction.partner_id, filters.partner_id),
                          (Introduction.status, filters.status),
                          (Introduction.request_id, filters.request_id)):
        if value:
            query = query.where(column == value)
    if filters.client:
        query = query.where(Introduction.client.ilike(f"%{filters.client}%"))
    if filters.proposed_by:
        query = query.where(or_(
            Introduction.request_id.in_(select(RecommendationRequest.id).where(
                RecommendationRequest.caller == filters.proposed_by)),
            Introduction.id.in_(select(Feedback.introduction_id).where(
                Feedback.caller == filters.proposed_by)),
        ))
    if filters.start:
        query = query.where(Introduction.proposed_on >= filters.start)
    if filters.end:
        query = query.where(Introduction.proposed_on <= filters.end)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Introduction.proposed_on.desc(), Introduction.id).limit(limit).offset(offset)
    )
    return list(rows), total


def update_introduction(
    session: Session, caller: Caller, intro: Introduction, changes: Mapping[str, Any],
    adoption_signal: bool, today: date | None = None,
) -> Introduction:
    """A manager's change: the plain fields as sent, then the status move (checked first: a
    forbidden move changes nothing), then the dates' order."""
    before, status = intro.status, changes.get("status")
    if status is not None:
        check_move(intro.status, status)
    # status: null is refused as for every field that may not be empty
    apply_patch(intro, {name: value for name, value in changes.items()
                        if name != "status" or value is None})
    if status is not None:
        move(intro, status, on=changes.get(DATE_OF[status]), today=today)
    check_dates(intro)
    session.flush()
    audit(session, caller.label, "update", "introduction", intro.id, dict(changes))
    introduction_changed(session, intro.partner, before, intro.status, adoption_signal)
    return intro


def share_owed_to_date(intro: Introduction, today: date | None = None) -> int | None:
    """What the partner owes on this introduction so far under its structured terms (see
    `service/kpis`). Confidential: only for partner managers and admins, like the terms."""
    terms = ShareTerms.stored(intro.partner.revenue_share)
    if not terms.readable:
        return None
    return int(owed_to_date(intro_facts(intro), terms, today or date.today()))


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
