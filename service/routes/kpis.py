"""Partnership KPIs and coverage gaps: partner managers' numbers and their recruiting list."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from service import gaps as gap_analysis
from service import kpis
from service.deps import ManagerDep, MatcherDep, SessionDep, SettingsDep
from service.errors import BadRequest
from service.routes.partners import get_partner
from service.schemas_kpi import GapGroup, GapReport, KpiReport, PartnerKpis, date_query

router = APIRouter(prefix="/v1", tags=["kpis"])

KPI_DESCRIPTION = (
    "Partnership KPIs for a period (`from`, `to`: dates, both included; by default the twelve "
    "calendar months up to today), in total and per partner (partners with an introduction "
    "engaged in the period or an initiative ending in it; `partner_id` keeps one). Money is in "
    "yen. An introduction counts with its current outcome, dated by when it reached it.\n\n"
    + "\n".join(f"- **{name}**: {text}" for name, text in kpis.definitions().items())
)
GAPS_DESCRIPTION = " ".join((gap_analysis.__doc__ or "").split())

FromDate = Annotated[date | None, date_query("from", "First day, YYYY-MM-DD")]
ToDate = Annotated[date | None, date_query("to", "Last day (included)")]


def _period(start: date | None, end: date | None) -> kpis.Period:
    default = kpis.default_period(end or date.today())
    period = kpis.Period(start or default.start, end or default.end)
    if period.start > period.end:
        raise BadRequest("`from` is after `to`")
    return period


@router.get("/kpis", response_model=KpiReport, description=KPI_DESCRIPTION)
def read_kpis(
    session: SessionDep,
    caller: ManagerDep,
    start: FromDate = None,
    end: ToDate = None,
    partner_id: Annotated[str | None, Query(max_length=36)] = None,
) -> KpiReport:
    """Partnership KPIs for a period, in total and per partner (definitions below)."""
    period = _period(start, end)
    if partner_id is not None:
        get_partner(partner_id, session)
    facts = kpis.load_facts(session, partner_id)
    partners = [
        PartnerKpis(partner_id=pid, name=facts.names.get(pid, pid), **values.model_dump())
        for pid, values in kpis.per_partner(facts, period).items()
    ]
    total = kpis.compute(facts, period)
    return KpiReport(
        from_=period.start, to=period.end, partner_id=partner_id, partners=partners,
        **total.model_dump(),
    )


@router.get("/gaps", response_model=GapReport, description=GAPS_DESCRIPTION)
def read_gaps(
    session: SessionDep,
    matcher: MatcherDep,
    settings: SettingsDep,
    caller: ManagerDep,
    start: FromDate = None,
    end: ToDate = None,
    threshold: Annotated[float | None, Query(ge=0, le=1, description="Default: the setting "
                                             "`gap_threshold`")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> GapReport:
    """What clients asked for that no partner covers well, grouped by similar requests."""
    if start and end and start > end:
        raise BadRequest("`from` is after `to`")
    cutoff = settings.gap_threshold if threshold is None else threshold
    asked = gap_analysis.load_asked(session, start, end)
    groups = gap_analysis.group_gaps(asked, cutoff, matcher.engine.glossary)
    return GapReport(
        threshold=cutoff, from_=start, to=end,
        groups=[GapGroup.model_validate(gap_analysis.summary(g)) for g in groups[:limit]],
    )
