"""The KPI fixture worked out by hand: three partners, their introductions and initiatives in
2026-Q2, and the figures they must give (tests/service/kpis)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from catalog.db import transaction
from catalog.tables import AuditEntry, Initiative, Introduction, Partner
from service.kpis.metrics import Period
from service.kpis.terms import ShareTerms
from tests.helpers.service import Running

MANAGER = "partner_manager"


PERIOD = Period(date(2026, 4, 1), date(2026, 6, 30))


D = date


def fixture_introductions(a: str, b: str, c: str) -> list[dict[str, Any]]:
    """Three partners: A (terms "20pct"), B (terms "¥5,000 per go-live"), C (no terms)."""
    return [
        # i1 A: live since before the period, monthly ¥10,000 -> Apr, May, Jun = ¥30,000
        dict(partner_id=a, status="live", proposed_on=D(2026, 3, 10), adopted_on=D(2026, 3, 20),
             live_on=D(2026, 3, 25), revenue=10_000, revenue_period="monthly", satisfaction=4),
        # i2 A: proposed, adopted, live and churned in the period, monthly ¥5,000 -> Apr, May
        dict(partner_id=a, status="churned", proposed_on=D(2026, 4, 2), adopted_on=D(2026, 4, 10),
             live_on=D(2026, 4, 15), churned_on=D(2026, 5, 20), revenue=5_000,
             revenue_period="monthly", satisfaction=2),
        # i3 B: one-off ¥200,000, live on 1 June
        dict(partner_id=b, status="live", proposed_on=D(2026, 5, 1), adopted_on=D(2026, 5, 10),
             live_on=D(2026, 6, 1), revenue=200_000, revenue_period="one_off", satisfaction=5),
        # i4 B: rejected in the period
        dict(partner_id=b, status="rejected", proposed_on=D(2026, 5, 3),
             rejected_on=D(2026, 5, 8)),
        # i5 C: still proposed
        dict(partner_id=c, status="proposed", proposed_on=D(2026, 6, 10)),
        # i6 C: proposed in the period, adopted after it: no adoption, no revenue in the period
        dict(partner_id=c, status="adopted", proposed_on=D(2026, 6, 20), adopted_on=D(2026, 7, 5),
             revenue=50_000),
        # i7 A: rejected before the period: nothing
        dict(partner_id=a, status="rejected", proposed_on=D(2026, 2, 1),
             rejected_on=D(2026, 2, 10)),
        # i8 C: churned before the period: not live at its start, its score not counted
        dict(partner_id=c, status="churned", proposed_on=D(2026, 1, 5), adopted_on=D(2026, 1, 10),
             live_on=D(2026, 1, 15), churned_on=D(2026, 3, 1), revenue=8_000,
             revenue_period="monthly", satisfaction=1),
    ]


def fixture_initiatives(a: str, b: str, c: str) -> list[dict[str, Any]]:
    return [
        dict(partner_id=a, status="succeeded", end_date=D(2026, 5, 15)),  # counts
        dict(partner_id=b, status="failed", end_date=D(2026, 6, 30)),  # counts (last day)
        dict(partner_id=a, status="succeeded", end_date=D(2026, 7, 10)),  # after the period
        dict(partner_id=c, status="cancelled", end_date=D(2026, 4, 10)),  # cancelled: left out
        dict(partner_id=a, status="running", end_date=None),  # not ended
        dict(partner_id=a, status="succeeded", end_date=D(2026, 4, 30)),  # counts
    ]


# Worked out by hand from the fixture above, period 2026-04-01 .. 2026-06-30:
EXPECTED_TOTAL = {
    # i1 3 months x 10,000 + i2 2 months (Apr, May) x 5,000 + i3 one-off 200,000
    "partner_sourced_revenue": 30_000 + 10_000 + 200_000,
    # A: 20% of (30,000 + 10,000) = 8,000; B: ¥5,000 for i3 going live in June
    "revenue_share_owed": 8_000 + 5_000,
    "introductions": 5,  # proposed in the period: i2, i3, i4, i5, i6
    "adoptions": 2,  # adopted in the period: i2, i3 (i1 in March, i6 in July)
    "rejections": 1,  # i4 (i7 in February)
    "adoption_rate": round(2 / 3, 4),  # 2 / (2 + 1)
    "active_partners": 3,  # A (i1 live, i2), B (i3, i4), C (i5, i6)
    "initiative_success_rate": round(2 / 3, 4),  # 2 succeeded / (2 + 1 failed)
    "churn_rate": round(1 / 3, 4),  # i2 churned / (i1 live at start + i2, i3 went live)
    "csat": round((4 + 2 + 5) / 3, 2),  # i1, i2, i3 (i8 not engaged, i4-i6 unscored)
}


EXPECTED_PER_PARTNER: dict[str, dict[str, Any]] = {
    "B": {"partner_sourced_revenue": 200_000, "revenue_share_owed": 5_000, "introductions": 2,
          "adoptions": 1, "rejections": 1, "adoption_rate": 0.5, "active_partners": 1,
          "initiative_success_rate": 0.0,  # 0 / (0 + 1 failed)
          "churn_rate": 0.0,  # 0 churned / (0 + i3 went live)
          "csat": 5.0},
    "A": {"partner_sourced_revenue": 40_000, "revenue_share_owed": 8_000, "introductions": 1,
          "adoptions": 1, "rejections": 0, "adoption_rate": 1.0, "active_partners": 1,
          "initiative_success_rate": 1.0,  # 2 / 2
          "churn_rate": 0.5,  # i2 / (i1 at start + i2 went live)
          "csat": 3.0},  # (4 + 2) / 2
    "C": {"partner_sourced_revenue": 0, "revenue_share_owed": None, "introductions": 2,
          "adoptions": 0, "rejections": 0, "adoption_rate": None, "active_partners": 1,
          "initiative_success_rate": None, "churn_rate": None, "csat": None},
}


TERMS = {"A": ShareTerms(percent=20.0), "B": ShareTerms(per_go_live=5_000)}


def seed_fixture(running: Running) -> dict[str, str]:
    ids = {"A": running.ids["t-sub"], "B": running.ids["t-konbini"], "C": running.ids["t-reviews"]}
    with transaction(running.sessions) as session:
        session.get(Partner, ids["B"]).revenue_share = TERMS["B"].to_stored()  # type: ignore[union-attr]
        session.add_all(Introduction(**row) for row in fixture_introductions(*ids.values()))
        session.add_all(
            Initiative(kind="event", title=f"initiative {n}", **row)
            for n, row in enumerate(fixture_initiatives(*ids.values()))
        )
    return ids


def typed_fixture(running: Running) -> dict[str, str]:
    """A system integration, B a referral partner turned reseller on 15 June 2026, C referral."""
    ids = seed_fixture(running)
    with transaction(running.sessions) as session:
        for key, kind in (("A", "system_integration"), ("B", "reseller"), ("C", "referral")):
            session.get(Partner, ids[key]).partner_type = kind  # type: ignore[union-attr]
        session.add_all([
            AuditEntry(at=datetime(2026, 1, 5, tzinfo=UTC), actor="test", action="create",
                       entity="partner", entity_id=ids["B"], changes={"partner_type": "referral"}),
            AuditEntry(at=datetime(2026, 6, 15, 9, tzinfo=UTC), actor="test", action="update",
                       entity="partner", entity_id=ids["B"], changes={"partner_type": "reseller"}),
        ])
    return ids
