"""The one place for catalog queries that more than one caller needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from catalog.tables import Introduction, NegotiationNote, Partner
from catalog.vocabulary import ADOPTED, ARCHIVED

INACTIVE = (ARCHIVED,)


def active_partner_ids(session: Session) -> set[str]:
    """The ids of the partners that belong in the index."""
    return set(session.scalars(select(Partner.id).where(Partner.status.not_in(INACTIVE))))


def active_partners(session: Session, changed_since: datetime | None = None) -> Sequence[Partner]:
    """Partners that belong in the index, with their notes loaded."""
    query = (
        select(Partner)
        .where(Partner.status.not_in(INACTIVE))
        .options(selectinload(Partner.notes))
        .order_by(Partner.id)
    )
    if changed_since is not None:
        query = query.where(Partner.updated_at > changed_since)
    return session.scalars(query).all()


def archived_since(session: Session, since: datetime) -> Sequence[str]:
    query = select(Partner.id).where(Partner.status.in_(INACTIVE), Partner.updated_at > since)
    return session.scalars(query).all()


def adoption_rates(session: Session) -> dict[str, float]:
    """Share of each partner's decided introductions that were adopted (adopted, live, churned)."""
    adopted = func.sum(case((Introduction.status.in_(ADOPTED), 1), else_=0))
    rows = session.execute(
        select(Introduction.partner_id, adopted, func.count())
        .where(Introduction.status != "proposed")
        .group_by(Introduction.partner_id)
    ).all()
    return {partner_id: (wins or 0) / total for partner_id, wins, total in rows if total}


def catalog_stats(session: Session) -> dict[str, object]:
    by_source = dict(
        session.execute(
            select(Partner.source, func.count())
            .where(Partner.status.not_in(INACTIVE))
            .group_by(Partner.source)
        ).all()
    )
    return {
        "partners": sum(by_source.values()),
        "by_source": by_source,
        "archived": session.scalar(
            select(func.count()).select_from(Partner).where(Partner.status.in_(INACTIVE))
        ),
        "notes": session.scalar(
            select(func.count())
            .select_from(NegotiationNote)
            .where(NegotiationNote.deleted_at.is_(None))
        ),
        "introductions": session.scalar(select(func.count()).select_from(Introduction)),
    }
