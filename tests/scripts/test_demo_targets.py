"""The demo data's targets: each partner type's, on the KPIs it is judged on, for this quarter and
the last, set once."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import transaction
from catalog.tables import AuditEntry
from catalog.vocabulary import PARTNER_TYPES
from scripts.demo_data import TARGETS, demo_targets
from service.kpis.groups import JUDGED_ON
from service.kpis.targets import list_targets


def test_demo_targets_cover_each_type_and_are_set_once(session_maker: sessionmaker[Session]) -> None:
    with transaction(session_maker) as session:
        demo_targets(session, date(2027, 2, 10), "test")
    with transaction(session_maker) as session:
        demo_targets(session, date(2027, 2, 10), "test")  # again: nothing changes
    with session_maker() as session:
        this, last = list_targets(session, "2027-Q1"), list_targets(session, "2026-Q4")
        trail = session.scalar(select(func.count()).select_from(AuditEntry)
                               .where(AuditEntry.entity == "kpi_target"))
    assert len(this) == len(last) == (trail or 0) / 2 == sum(len(t) for t in TARGETS.values())
    assert {t.partner_type for t in this} == set(PARTNER_TYPES)
    for kind in PARTNER_TYPES:  # on the KPIs the type is judged on
        assert {t.metric for t in this if t.partner_type == kind} >= set(JUDGED_ON[kind][:2])
    assert {(t.metric, t.direction) for t in this if t.metric == "churn_rate"} == {
        ("churn_rate", "at_most")}
