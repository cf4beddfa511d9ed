"""KPI targets: what a partner type (or one partner) should reach in a quarter or a month, and
the progress of a figure against its target.

Progress is judged by the share of the period that has elapsed. A finished period is `met` or
`missed`. While it runs, a count that builds up over the period (revenue, introductions,
adoptions, joint initiatives) is `on_track` when it has reached at least the target's elapsed
share (at_least), or has not yet passed the target (at_most; past it, `missed`: it cannot come
back down); a level or a rate (rates, CSAT, active partners or installs) is `on_track` when it
meets the target today. Otherwise `at_risk`. A figure with no value yet (a rate without a
denominator) is `no_data`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.tables import KpiTarget, Partner
from service.audit import audit
from service.errors import BadRequest
from service.kpis.metrics import Period
from service.kpis.schemas import PERIOD_YEAR
from service.records import get_or_404

# Figures that build up over a period; the others are levels or rates.
CUMULATIVE = frozenset({"partner_sourced_revenue", "introductions", "adoptions",
                        "joint_initiatives"})
_QUARTER = re.compile(rf"{PERIOD_YEAR}-Q([1-4])")
_MONTH = re.compile(rf"{PERIOD_YEAR}-(0[1-9]|1[0-2])")


def parse_period(text: str) -> Period:
    """A target's period: a quarter ("2027-Q1") or a calendar month ("2027-01")."""
    if quarter := _QUARTER.fullmatch(text):
        year, first = int(quarter[1]), 3 * int(quarter[2]) - 2
        return Period(date(year, first, 1), _month_end(year, first + 2))
    if month := _MONTH.fullmatch(text):
        year, number = int(month[1]), int(month[2])
        return Period(date(year, number, 1), _month_end(year, number))
    raise BadRequest(f"period {text!r}: a quarter (2027-Q1) or a month (2027-01) of 1900 to 2999")


def period_name(period: Period) -> str | None:
    """The target period ("2027-Q1", "2027-01") exactly spanning `period`, if there is one."""
    start = period.start
    for name in (f"{start.year}-Q{(start.month - 1) // 3 + 1}", f"{start.year}-{start.month:02d}"):
        if parse_period(name) == period:
            return name
    return None


def current_quarter(today: date) -> Period:
    return parse_period(f"{today.year}-Q{(today.month - 1) // 3 + 1}")


def _month_end(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


@dataclass(frozen=True)
class Progress:
    metric: str
    direction: str
    target: float
    value: float | None
    ratio: float | None  # value / target
    status: str  # on_track, at_risk, missed, met, no_data


def elapsed_share(period: Period, today: date) -> float:
    """How much of the period has passed by the end of `today` (0 before it, 1 after it)."""
    days = (period.end - period.start).days + 1
    return min(max((today - period.start).days + 1, 0), days) / days


def progress(metric: str, direction: str, target: float, value: float | None,
             elapsed: float) -> Progress:
    """One figure against its target, `elapsed` the share of the period gone (see the module)."""
    ratio = round(value / target, 4) if value is not None and target else None
    return Progress(metric, direction, target, value, ratio,
                    _status(metric, direction, target, value, elapsed))


def _status(metric: str, direction: str, target: float, value: float | None,
            elapsed: float) -> str:
    if value is None:
        return "no_data"
    meets = value >= target if direction == "at_least" else value <= target
    if elapsed >= 1:
        return "met" if meets else "missed"
    if metric not in CUMULATIVE:
        return "on_track" if meets else "at_risk"
    if direction == "at_most":
        return "on_track" if meets else "missed"
    return "on_track" if value >= target * elapsed else "at_risk"


# -- stored targets ----------------------------------------------------------------------------


def upsert_targets(session: Session, actor: str, targets: Iterable[Mapping[str, Any]]) -> list[KpiTarget]:
    """Set each target (period, partner_type or partner_id, metric, direction, target): a new
    one is created, an existing one (same period, scope and metric) is changed; each audited."""
    saved = []
    for values in targets:
        parse_period(values["period"])
        if (values.get("partner_type") is None) == (values.get("partner_id") is None):
            raise BadRequest("a target is of a partner_type or of a partner_id (one of the two)")
        if values.get("partner_id") is not None:
            get_or_404(session, Partner, values["partner_id"])
        saved.append(_upsert_one(session, actor, values))
    session.flush()
    return saved


def _upsert_one(session: Session, actor: str, values: Mapping[str, Any]) -> KpiTarget:
    key = {k: values.get(k) for k in ("period", "partner_type", "partner_id", "metric")}
    row = session.scalars(select(KpiTarget).where(
        *(getattr(KpiTarget, k).is_(None) if v is None else getattr(KpiTarget, k) == v
          for k, v in key.items())
    )).first()
    changes = {"direction": values["direction"], "target": values["target"]}
    if row is None:
        row = KpiTarget(**key, **changes, updated_by=actor)
        session.add(row)
        session.flush()
        audit(session, actor, "create", "kpi_target", row.id, {**key, **changes})
    elif (row.direction, row.target) != (changes["direction"], changes["target"]):
        row.direction, row.target, row.updated_by = changes["direction"], changes["target"], actor
        audit(session, actor, "update", "kpi_target", row.id, changes)
    return row


def list_targets(session: Session, period: str | None = None, partner_type: str | None = None,
                 partner_id: str | None = None) -> list[KpiTarget]:
    """The stored targets, of one period, partner type or partner when given."""
    query = select(KpiTarget)
    if period is not None:
        parse_period(period)
        query = query.where(KpiTarget.period == period)
    if partner_type is not None:
        query = query.where(KpiTarget.partner_type == partner_type)
    if partner_id is not None:
        query = query.where(KpiTarget.partner_id == partner_id)
    return sorted(session.scalars(query), key=lambda t: (
        t.period, t.partner_type or "", t.partner_id or "", t.metric))
