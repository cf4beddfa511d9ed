"""What a recommendation shows of each partner, kept between requests.

A candidate shows its partner's summary, negotiation notes and introductions by status. Reading
them took three queries per recommendation (partners, their notes, introductions); they change
far less often than they are shown. So each process keeps them for the catalog generation it
has reached: every change to what a view shows bumps the generation (`catalog_changed` for a
partner or its notes, `views_changed` for its introductions), and the views are forgotten when
the matcher reaches a new generation or this process commits such a change. A recommendation of
partners shown since then reads nothing: its one database round trip is the record of what it
showed.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from cachetools import LRUCache
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from catalog.db import READ_ONLY
from catalog.repository import ADOPTED
from catalog.tables import Introduction, Partner
from service.auth import Caller
from service.schemas import CandidateNote, PartnerSummary


class _Note(Protocol):
    confidential: bool


N = TypeVar("N", bound=_Note)


def readable(notes: Sequence[N], caller: Caller) -> list[N]:
    """The notes this caller may read: none for viewers, no confidential ones for PMs."""
    if not caller.sees_notes:
        return []
    return [n for n in notes if caller.sees_confidential or not n.confidential]


@dataclass(frozen=True)
class PartnerView:
    summary: PartnerSummary
    notes: tuple[CandidateNote, ...]  # newest first, confidential ones included
    adoptions: dict[str, float]  # introductions by status, their count and the adoption rate


class PartnerViews:
    """Partner views of one catalog generation, the most recently shown `size` of them."""

    def __init__(self, size: int = 4096) -> None:
        self._views: LRUCache[str, PartnerView] = LRUCache(maxsize=size)
        self._generation = -1
        self._epoch = 0  # moved by every invalidation: a read that began before it is not kept
        self._lock = threading.Lock()

    def get(self, session: Session, ids: Collection[str], generation: int) -> dict[str, PartnerView]:
        """The views of these partners (those that exist), read from `session` when not kept.

        `generation` is the catalog generation the caller's index has reached; it must be taken
        before this call, so that a view read from the database is never older than it. Views
        read through a session opened with `reading` are kept for the next requests.
        """
        with self._lock:
            if generation != self._generation:
                self._forget(generation)
            views = {i: view for i in ids if (view := self._views.get(i)) is not None}
            epoch = self._epoch
        missing = [i for i in ids if i not in views]
        if missing:
            read = load_views(session, missing)
            with self._lock:
                # Only what a read-only session read is kept: a unit of work that writes may
                # show its own changes, and may yet roll them back.
                if epoch == self._epoch and session.info.get(READ_ONLY):
                    self._views.update(read)
            views.update(read)
        return views

    def invalidate(self) -> None:
        """Forget every view (this process committed a change of some partner's)."""
        with self._lock:
            self._forget(self._generation)

    def _forget(self, generation: int) -> None:
        self._views.clear()
        self._generation = generation
        self._epoch += 1


def load_views(session: Session, ids: Collection[str]) -> dict[str, PartnerView]:
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

