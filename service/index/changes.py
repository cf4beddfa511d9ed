"""The one way a change reaches the indexes: announce it in the unit of work, apply it after the
commit.

A writer (the HTTP API, the Slack bot, the CLI, an importer) announces what it changed with
`catalog_changed` (partners whose indexed text or priors changed) or `views_changed` (only what
recommendations show of them, such as their introductions). The first announcement of a unit of
work bumps the catalog generation in that same transaction: every other process (workers,
replicas) sees the number move and catches up. After the commit, `follow_commits` hands the change
to this process's own index at once, so its next answer sees it. A rolled-back unit of work
announces nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from catalog.generation import bump_generation

log = logging.getLogger(__name__)
_GENERATION = "partnermatch_generation"
_PARTNERS = "partnermatch_changed_partners"
_COMMITTED = "partnermatch_committed"

# Applies a committed change to this process: the partners to re-index (none when only their
# views changed) and the generation the change reached.
Apply = Callable[[Collection[str], int], None]


def catalog_changed(session: Session, *partner_ids: str) -> None:
    """These partners' indexed text or priors changed: re-index them after the commit."""
    session.info.setdefault(_PARTNERS, set()).update(partner_ids)
    views_changed(session)


def views_changed(session: Session) -> None:
    """What recommendations show of some partner changed (its introductions), and nothing they
    are ranked by: every process forgets its partner views, none re-indexes."""
    if _GENERATION not in session.info:
        session.info[_GENERATION] = bump_generation(session)


def follow_commits(sessions: sessionmaker[Session], apply: Apply) -> None:
    """After every commit of a unit of work from `sessions` that announced a change, `apply` it,
    once the unit of work has let go of its connection (`apply` reads with one of its own)."""

    @event.listens_for(sessions, "after_commit")
    def committed(session: Session) -> None:
        if not session.in_nested_transaction():  # a savepoint's change may yet roll back
            session.info[_COMMITTED] = True

    @event.listens_for(sessions, "after_transaction_end")
    def ended(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is not None:
            return
        committed = session.info.pop(_COMMITTED, False)
        generation = session.info.pop(_GENERATION, None)
        partners = session.info.pop(_PARTNERS, set())
        if not committed or generation is None:
            return  # nothing announced, or rolled back with the transaction
        try:
            apply(partners, generation)
        except Exception:  # committed already: the follower's sync catches the index up
            log.exception("applying a committed change to the index failed")
