"""Partner views: kept per catalog generation, only as read by read-only sessions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from catalog.db import open_database, reading, session_factory, transaction, upgrade
from catalog.importers.upsert import apply_import
from catalog.tables import Partner
from service.auth.callers import Caller, readable
from service.index.view_cache import PartnerViews
from service.recommendations.partner_views import load_views
from tests.helpers.service import PARTNERS


@pytest.fixture
def catalog(tmp_path: Path):
    database = open_database(f"sqlite:///{tmp_path / 'views.db'}")
    upgrade(database)
    sessions = session_factory(database)
    with transaction(sessions) as session:
        apply_import(session, "test", [dict(PARTNERS[0])])
    with sessions() as session:
        partner_id = session.scalar(select(Partner.id))
    yield sessions, partner_id
    database.dispose()


def rename(sessions, partner_id: str, name: str) -> None:
    with transaction(sessions) as session:
        partner = session.get(Partner, partner_id)
        assert partner is not None
        partner.name = name


def name_seen(views: PartnerViews, sessions, partner_id: str, generation: int) -> str:
    with reading(sessions) as session:
        return views.get(session, [partner_id], generation, load_views)[partner_id].summary.name


def test_views_are_kept_for_a_generation(catalog) -> None:
    sessions, partner_id = catalog
    views = PartnerViews()
    assert name_seen(views, sessions, partner_id, 1) == "Teiki Subscriptions"
    rename(sessions, partner_id, "Teiki Two")
    assert name_seen(views, sessions, partner_id, 1) == "Teiki Subscriptions"  # kept
    assert name_seen(views, sessions, partner_id, 2) == "Teiki Two"  # a new generation
    rename(sessions, partner_id, "Teiki Three")
    views.invalidate()  # this process committed a change
    assert name_seen(views, sessions, partner_id, 2) == "Teiki Three"
    with reading(sessions) as session:
        assert views.get(session, ["no-such-partner"], 2, load_views) == {}


def test_a_view_read_by_a_writing_session_or_during_a_change_is_not_kept(catalog) -> None:
    sessions, partner_id = catalog
    views = PartnerViews()
    with transaction(sessions) as session:
        partner = session.get(Partner, partner_id)
        assert partner is not None
        partner.name = "Not Committed Yet"
        session.flush()
        assert views.get(session, [partner_id], 1, load_views)[partner_id].summary.name == "Not Committed Yet"
        session.rollback()
    assert name_seen(views, sessions, partner_id, 1) == "Teiki Subscriptions"

    loads = []

    def load_while_changed(session, ids):
        loads.append(ids)
        read = load_views(session, ids)
        views.invalidate()  # a change committed while the view was being read
        return read

    views = PartnerViews()
    for _ in range(2):
        with reading(sessions) as session:
            views.get(session, [partner_id], 1, load_while_changed)
    assert len(loads) == 2  # the first read was not kept


def test_each_caller_reads_the_notes_of_its_role(catalog) -> None:
    sessions, partner_id = catalog
    with reading(sessions) as session:
        notes = PartnerViews().get(session, [partner_id], 1, load_views)[partner_id].notes
    assert [n.confidential for n in notes] == [True, False]  # newest first
    assert readable(notes, Caller("v", "v", "viewer")) == []
    assert [n.confidential for n in readable(notes, Caller("p", "p", "pm"))] == [False]
    assert len(readable(notes, Caller("m", "m", "partner_manager"))) == 2
