"""KPI targets: periods, progress worked out by hand, and the targets API (managers and admins
only, audited)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from catalog.tables import AuditEntry
from service.errors import BadRequest
from service.kpis.metrics import Period
from service.kpis.targets import elapsed_share, parse_period, period_name, progress
from tests.helpers.service import Running

D = date
MANAGER = "partner_manager"


def test_periods_are_quarters_or_months() -> None:
    assert parse_period("2027-Q1") == Period(D(2027, 1, 1), D(2027, 3, 31))
    assert parse_period("2028-02") == Period(D(2028, 2, 1), D(2028, 2, 29))
    assert parse_period("2027-Q4") == Period(D(2027, 10, 1), D(2027, 12, 31))
    assert period_name(Period(D(2027, 4, 1), D(2027, 6, 30))) == "2027-Q2"
    assert period_name(Period(D(2027, 5, 1), D(2027, 5, 31))) == "2027-05"
    assert period_name(Period(D(2027, 5, 1), D(2027, 6, 30))) is None
    for bad in ("2027-Q5", "2027-13", "2027", "Q1-2027"):
        with pytest.raises(BadRequest):
            parse_period(bad)


def test_elapsed_share_counts_today_as_gone() -> None:
    q1 = parse_period("2027-Q1")  # 90 days
    assert elapsed_share(q1, D(2026, 12, 31)) == 0
    assert elapsed_share(q1, D(2027, 1, 30)) == 30 / 90
    assert elapsed_share(q1, D(2027, 3, 31)) == 1 and elapsed_share(q1, D(2027, 7, 1)) == 1


@pytest.mark.parametrize(("metric", "direction", "target", "value", "elapsed", "status", "ratio"), [
    # a third of the quarter gone: 4 of 12 adoptions is on track, 3 is at risk
    ("adoptions", "at_least", 12, 4, 1 / 3, "on_track", 0.3333),
    ("adoptions", "at_least", 12, 3, 1 / 3, "at_risk", 0.25),
    # the quarter over: 11 of 12 is missed, 12 met
    ("adoptions", "at_least", 12, 11, 1.0, "missed", 0.9167),
    ("adoptions", "at_least", 12, 12, 1.0, "met", 1.0),
    # a rate is judged as it stands: churn 4% against at most 5% is on track, 6% at risk
    ("churn_rate", "at_most", 0.05, 0.04, 0.5, "on_track", 0.8),
    ("churn_rate", "at_most", 0.05, 0.06, 0.5, "at_risk", 1.2),
    ("churn_rate", "at_most", 0.05, 0.06, 1.0, "missed", 1.2),
    # a count at most: passed before the end, it cannot come back
    ("introductions", "at_most", 10, 11, 0.5, "missed", 1.1),
    # no value yet (no live installs for a churn rate)
    ("churn_rate", "at_most", 0.05, None, 0.5, "no_data", None),
    ("csat", "at_least", 4.0, 4.5, 0.1, "on_track", 1.125),
])
def test_progress_by_elapsed_share(metric: str, direction: str, target: float,
                                   value: float | None, elapsed: float, status: str,
                                   ratio: float | None) -> None:
    result = progress(metric, direction, target, value, elapsed)
    assert (result.status, result.ratio) == (status, ratio)


def put(running: Running, role: str, *targets: dict[str, object]):  # the test client's response
    return running.client.put("/v1/kpi-targets", json={"targets": list(targets)},
                              headers=running.headers(role))


def test_targets_are_set_read_and_audited_by_managers_only(running: Running) -> None:
    adoptions = {"period": "2027-Q1", "partner_type": "system_integration",
                 "metric": "adoptions", "target": 12}
    churn = {"period": "2027-Q1", "partner_type": "system_integration", "metric": "churn_rate",
             "target": 0.05}
    mine = {"period": "2027-01", "partner_id": running.ids["t-sub"], "metric": "introductions",
            "target": 3}
    for role in ("pm", "viewer"):
        assert put(running, role, adoptions).status_code == 403
        listed = running.client.get("/v1/kpi-targets", headers=running.headers(role))
        assert listed.status_code == 403
    saved = put(running, MANAGER, adoptions, churn, mine)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert [(t["metric"], t["direction"], t["target"]) for t in body] == [
        ("adoptions", "at_least", 12), ("churn_rate", "at_most", 0.05), ("introductions", "at_least", 3)]

    changed = put(running, "admin", {**adoptions, "target": 15})
    assert changed.json()[0]["id"] == body[0]["id"]
    listed = running.client.get("/v1/kpi-targets?period=2027-Q1&partner_type=system_integration",
                                headers=running.headers(MANAGER)).json()
    assert [(t["metric"], t["target"]) for t in listed] == [("adoptions", 15), ("churn_rate", 0.05)]
    every = running.client.get("/v1/kpi-targets", headers=running.headers(MANAGER)).json()
    assert len(every) == 3

    with running.sessions() as session:
        trail = session.scalars(select(AuditEntry).where(AuditEntry.entity == "kpi_target")
                                .order_by(AuditEntry.id)).all()
    assert [(e.action, e.changes.get("target")) for e in trail] == [
        ("create", 12), ("create", 0.05), ("create", 3), ("update", 15)]


@pytest.mark.parametrize("target", [
    {"period": "2027-Q5", "partner_type": "reseller", "metric": "adoptions", "target": 1},
    {"period": "2027-Q1", "metric": "adoptions", "target": 1},  # no scope
    {"period": "2027-Q1", "partner_type": "reseller", "partner_id": "x", "metric": "adoptions",
     "target": 1},  # both scopes
    {"period": "2027-Q1", "partner_type": "wholesale", "metric": "adoptions", "target": 1},
    {"period": "2027-Q1", "partner_type": "reseller", "metric": "deals", "target": 1},
    {"period": "2027-Q1", "partner_type": "reseller", "metric": "adoptions", "target": -1},
])
def test_bad_targets_are_refused(running: Running, target: dict[str, object]) -> None:
    answer = put(running, MANAGER, target)
    assert answer.status_code == 422


def test_a_target_of_an_unknown_partner_is_404(running: Running) -> None:
    answer = put(running, MANAGER, {"period": "2027-Q1", "partner_id": "nope",
                                    "metric": "adoptions", "target": 1})
    assert answer.status_code == 404


def test_a_period_out_of_the_calendar_is_refused_not_a_server_error(running: Running) -> None:
    for period in ("0000-Q1", "9999-Q4", "0000-01"):
        listed = running.client.get(f"/v1/kpi-targets?period={period}", headers=running.headers(MANAGER))
        assert listed.status_code == 422, listed.text
        grouped = running.client.get(f"/v1/kpis?group_by=partner_type&period={period}",
                                     headers=running.headers(MANAGER))
        assert grouped.status_code == 422, grouped.text
        stored = put(running, MANAGER, {"period": period, "partner_type": "referral",
                                         "metric": "adoptions", "target": 1})
        assert stored.status_code == 422, stored.text
