"""KPIs per partner type or per partner, each group with its targets and its progress.

A partner counts, for the whole period, in the group of the type it had on the period's last
day (today, while the period runs), read from the audit trail: the last `partner_type` a
create or an update recorded by then. A partner whose trail records no type by then counts
with its current type (a type set by an import is not in the trail). Each type lists first the
KPIs it is judged on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.tables import AuditEntry, KpiTarget, Partner
from catalog.vocabulary import PARTNER_TYPES
from service.kpis import metrics, targets
from service.kpis.facts import load_facts
from service.kpis.schemas import Figure, KpiGroup, KpiGroups, KpiValues, TargetProgress

JUDGED_ON: dict[str | None, tuple[str, ...]] = {
    "reseller": ("partner_sourced_revenue", "adoptions"),
    "system_integration": ("adoptions", "active_installs", "churn_rate"),
    "brand_collaboration": ("joint_initiatives", "initiative_success_rate", "csat"),
    "referral": ("introductions", "adoptions"),
}
FIGURES = (*KpiValues.model_fields, "active_installs", "joint_initiatives")
UNTYPED = "untyped"


def figures(facts: metrics.Facts, period: metrics.Period) -> dict[str, float | None]:
    """Every KPI of the facts in the period: those of `/v1/kpis` and active installs and joint
    initiatives (`metrics.py` defines each)."""
    values: dict[str, float | None] = dict(metrics.compute(facts, period).model_dump())
    values["active_installs"] = metrics.active_installs(facts.introductions, period)
    values["joint_initiatives"] = metrics.joint_initiatives(facts.initiatives, period)
    return values


def ordered(values: dict[str, float | None], partner_type: str | None) -> list[Figure]:
    """The figures, those the type is judged on first."""
    judged = JUDGED_ON.get(partner_type, ())
    rest = [name for name in FIGURES if name not in judged]
    return [Figure(metric=name, value=values[name], judged_on=name in judged)
            for name in (*judged, *rest)]


def types_on(session: Session, partner_ids: Iterable[str], day: date) -> dict[str, str | None]:
    """Each partner's type on `day` (see the module's docstring)."""
    ids = set(partner_ids)
    current = dict(session.execute(
        select(Partner.id, Partner.partner_type).where(Partner.id.in_(ids))
    ).tuples().all()) if ids else {}
    cutoff = datetime.combine(day + timedelta(days=1), time(), UTC)
    trail = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "partner", AuditEntry.at < cutoff,
                                 AuditEntry.action.in_(("create", "update")))
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    recorded = {e.entity_id: e.changes["partner_type"] for e in trail
                if e.entity_id in ids and "partner_type" in e.changes}
    return {pid: recorded.get(pid, current.get(pid)) for pid in ids}


def kpi_groups(session: Session, period: metrics.Period, group_by: str, today: date) -> KpiGroups:
    """The KPIs of the period per partner type (`group_by` "partner_type") or per partner
    ("partner"), each with its targets (those set for exactly this quarter or month) and its
    progress by the period's elapsed share on `today`."""
    facts = load_facts(session)
    name = targets.period_name(period)
    stored = targets.list_targets(session, name) if name else []
    elapsed = targets.elapsed_share(period, today)
    partner_ids = {i.partner_id for i in facts.introductions} | {i.partner_id for i in facts.initiatives}
    partner_ids |= {t.partner_id for t in stored if t.partner_id}
    types = types_on(session, partner_ids, min(period.end, today))
    build = _by_type if group_by == "partner_type" else _by_partner
    groups = build(session, facts, period, types, stored, elapsed)
    return KpiGroups.model_validate({
        "from_": period.start, "to": period.end, "group_by": group_by, "target_period": name,
        "elapsed": round(elapsed, 4), "groups": groups,
    })


def _by_type(session: Session, facts: metrics.Facts, period: metrics.Period,
             types: dict[str, str | None], stored: list[KpiTarget], elapsed: float) -> list[KpiGroup]:
    keys: list[str | None] = list(PARTNER_TYPES)
    if any(types.get(i.partner_id) is None for i in facts.introductions if metrics.engaged(i, period)):
        keys.append(None)
    groups = []
    for partner_type in keys:
        members = {pid for pid, kind in types.items() if kind == partner_type}
        values = figures(_among(facts, members), period)
        mine = [t for t in stored if t.partner_id is None and t.partner_type == partner_type]
        groups.append(KpiGroup(
            key=partner_type or UNTYPED, name=partner_type or UNTYPED, partner_type=partner_type,
            figures=ordered(values, partner_type),
            progress=_progress(mine, values, elapsed, partner_type),
        ))
    return groups


def _by_partner(session: Session, facts: metrics.Facts, period: metrics.Period,
                types: dict[str, str | None], stored: list[KpiTarget], elapsed: float) -> list[KpiGroup]:
    order = list(metrics.per_partner(facts, period))
    order += sorted({t.partner_id for t in stored if t.partner_id} - set(order))
    names = dict(session.execute(select(Partner.id, Partner.name).where(Partner.id.in_(order)))
                 .tuples().all()) if order else {}
    groups = []
    for pid in order:
        values = figures(metrics.only(facts, pid), period)
        mine = [t for t in stored if t.partner_id == pid]
        groups.append(KpiGroup(
            key=pid, name=names.get(pid, pid), partner_type=types.get(pid),
            figures=ordered(values, types.get(pid)),
            progress=_progress(mine, values, elapsed, types.get(pid)),
        ))
    return groups


def _among(facts: metrics.Facts, partner_ids: set[str]) -> metrics.Facts:
    return replace(
        facts,
        introductions=[i for i in facts.introductions if i.partner_id in partner_ids],
        initiatives=[i for i in facts.initiatives if i.partner_id in partner_ids],
    )


def _progress(stored: list[KpiTarget], values: dict[str, float | None], elapsed: float,
              partner_type: str | None) -> list[TargetProgress]:
    """Progress on each target, in the order of the figures (those judged on first)."""
    order = {f.metric: n for n, f in enumerate(ordered(values, partner_type))}
    return [
        TargetProgress.model_validate(vars(targets.progress(
            t.metric, t.direction, t.target, values.get(t.metric), elapsed)))
        for t in sorted(stored, key=lambda t: order.get(t.metric, len(order)))
    ]
