"""What recommendations show of each partner (its view), kept between requests.

A candidate shows its partner's summary, negotiation notes and introductions by status
(`service/recommendations/partner_views.py` reads them). Reading them took three queries per
recommendation; they change far less often than they are shown. So each process keeps them for
the catalog generation it has reached: every change to what a view shows bumps the generation
(`catalog_changed` for a partner or its notes, `views_changed` for its introductions), and the
views are forgotten when the matcher reaches a new generation or this process commits such a
change. A recommendation of partners shown since then reads nothing: its one database round trip
is the record of what it showed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from typing import Any

from cachetools import LRUCache
from sqlalchemy.orm import Session

from catalog.db import READ_ONLY

# Reads the views of these partners (those that exist) through the session.
Load = Callable[[Session, Collection[str]], dict[str, Any]]


class PartnerViews:
    """Partner views of one catalog generation, the most recently shown `size` of them."""

    def __init__(self, size: int = 4096) -> None:
        self._views: LRUCache[str, Any] = LRUCache(maxsize=size)
        self._generation = -1
        self._epoch = 0  # moved by every invalidation: a read that began before it is not kept
        self._lock = threading.Lock()

    def get(
        self, session: Session, ids: Collection[str], generation: int, load: Load
    ) -> dict[str, Any]:
        """The views of these partners (those that exist), read with `load` when not kept.

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
            read = load(session, missing)
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
