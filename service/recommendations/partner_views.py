"""What a recommendation shows of each partner: its summary, its notes (every one; who may read
which is decided when the answer is built) and its introductions by status. Kept between requests
by the matcher's `PartnerViews` (`service/index/view_cache.py`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from catalog.tables import Introduction, Partner
from catalog.vocabulary import ADOPTED
from service.partners.schemas import PartnerSummary
from service.recommendations.schemas import CandidateNote


@dataclass(frozen=True)
class PartnerView:
    summary: PartnerSummary
    notes: tuple[CandidateNote, ...]  # newest first, confidential ones included
    adoptions: dict[str, float]  # introductions by status, their count and the adoption rate


def load_views(session: Session, ids: Collection[str]) -> dict[str, PartnerView]:
    """The views of these partners (those that exist), read in two queries."""
    partners = session.scalars(
        select(Partner).where(Partner.id.in_(ids)).options(selectinload(Partner.notes))
    )
    adoptions = _adoptions(session, ids)
    return {
        p.id: PartnerView(
            summary=PartnerSummary.model_validate(p),
            notes=tuple(CandidateNote.model_validate(n, from_attributes=True)
                        for n in p.notes if n.deleted_at is None),
            adoptions=adoptions.get(p.id, {}),
        )
        for p in partners
    }


def _adoptions(session: Session, ids: Collection[str]) -> dict[str, dict[str, float]]:
    rows = session.execute(
        select(Introduction.partner_id, Introduction.status, func.count())
        .where(Introduction.partner_id.in_(ids))
        .group_by(Introduction.partner_id, Introduction.status)
    ).all()
    stats: dict[str, dict[str, float]] = {}
    for partner_id, status, count in rows:
        stats.setdefault(partner_id, {})[status] = count
    for counts in stats.values():
        adopted = sum(counts.get(s, 0) for s in ADOPTED)
        decided = adopted + counts.get("rejected", 0)
        counts["introductions"] = sum(counts.values())
        counts["adoption_rate"] = round(adopted / decided, 3) if decided else 0.0
    return stats

