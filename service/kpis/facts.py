"""The facts the KPIs are computed from, loaded from the database as plain values."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.tables import Initiative, Introduction, Partner
from catalog.vocabulary import ADOPTED
from service.kpis.metrics import Facts, InitiativeFacts, IntroFacts
from service.kpis.terms import ShareTerms


def load_facts(session: Session, partner_id: str | None = None) -> Facts:
    """Every introduction and initiative (of one partner, if given) as plain facts."""
    intro_query, initiative_query = select(Introduction), select(Initiative)
    if partner_id is not None:
        intro_query = intro_query.where(Introduction.partner_id == partner_id)
        initiative_query = initiative_query.where(Initiative.partner_id == partner_id)
    intros = [intro_facts(row) for row in session.scalars(intro_query)]
    initiatives = [
        InitiativeFacts(row.partner_id, row.status, row.start_date, row.end_date)
        for row in session.scalars(initiative_query)
    ]
    ids = {i.partner_id for i in intros} | {i.partner_id for i in initiatives}
    partners = session.execute(
        select(Partner.id, Partner.name, Partner.revenue_share).where(Partner.id.in_(ids))
    ).all() if ids else []
    return Facts(
        introductions=intros,
        initiatives=initiatives,
        terms={pid: ShareTerms.stored(terms) for pid, _, terms in partners},
        names={pid: name for pid, name, _ in partners},
    )


def intro_facts(row: Introduction) -> IntroFacts:
    # Rows edited by hand may miss a date; the earliest later date stands in for it.
    proposed = row.proposed_on or (row.created_at.date() if row.created_at else None)
    adopted = row.adopted_on or (row.live_on if row.status in ADOPTED else None)
    return IntroFacts(
        partner_id=row.partner_id, status=row.status, proposed_on=proposed, adopted_on=adopted,
        live_on=row.live_on, churned_on=row.churned_on, rejected_on=row.rejected_on,
        revenue=row.revenue, revenue_period=row.revenue_period, satisfaction=row.satisfaction,
    )
