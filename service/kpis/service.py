"""The KPI report of a period and the coverage gaps: what every face asks for (the JSON API, the
CLI's report, the web console)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from catalog.tables import Partner
from models.glossary import Glossary
from service.errors import BadRequest
from service.kpis import gaps, metrics, targets
from service.kpis.facts import load_facts
from service.kpis.schemas import (
    GapGroup,
    GapReport,
    KpiReport,
    PartnerKpis,
    RevenueShare,
    TermsPrefill,
)
from service.kpis.terms import prefill
from service.records import get_or_404


def period_of(start: date | None, end: date | None, today: date | None = None) -> metrics.Period:
    """The period from `start` to `end`, each by default that of the twelve calendar months up
    to `end` (or today)."""
    default = metrics.default_period(end or today or date.today())
    period = metrics.Period(start or default.start, end or default.end)
    if period.start > period.end:
        raise BadRequest("`from` is after `to`")
    return period


def chosen_period(start: date | None, end: date | None, period: str | None,
                  default: metrics.Period | None = None) -> metrics.Period:
    """A target period's name ("2027-Q1", "2027-01") or `from`/`to` (not both), else `default`
    (when given), else the twelve calendar months up to `end` or today (`period_of`)."""
    if period is not None:
        if start or end:
            raise BadRequest("give either `period` or `from`/`to`")
        return targets.parse_period(period)
    if default is not None and start is None and end is None:
        return default
    return period_of(start, end)


def kpi_report(session: Session, period: metrics.Period, partner_id: str | None = None) -> KpiReport:
    """The KPIs of the period in total and per partner (one partner's when `partner_id` is given)."""
    if partner_id is not None:
        get_or_404(session, Partner, partner_id)
    facts = load_facts(session, partner_id)
    partners = [
        PartnerKpis(partner_id=pid, name=facts.names.get(pid, pid), **values.model_dump())
        for pid, values in metrics.per_partner(facts, period).items()
    ]
    return KpiReport(
        from_=period.start, to=period.end, partner_id=partner_id, partners=partners,
        **metrics.compute(facts, period).model_dump(),
    )


def gap_report(
    session: Session, glossary: Glossary, threshold: float, start: date | None = None,
    end: date | None = None, limit: int = 50,
) -> GapReport:
    """What clients asked for that no partner covers well, grouped, the most asked-for first;
    vague requests apart. The period is by default the KPIs' (`period_of`)."""
    period = period_of(start, end)
    found = gaps.group_gaps(gaps.load_gaps(session, threshold, period.start, period.end),
                            threshold, glossary)
    needs = [GapGroup.model_validate(gaps.summary(g)) for g in found if not g.vague]
    vague = [GapGroup.model_validate(gaps.summary(g)) for g in found if g.vague]
    return GapReport(threshold=threshold, from_=period.start, to=period.end,
                     groups=needs[:limit], vague=vague[:limit])


def prefill_terms(text: str) -> TermsPrefill:
    """The structured terms free text prefills, and a warning for each part not understood."""
    read = prefill(text)
    fields = read.terms.to_stored() if read.terms.readable else None
    return TermsPrefill(
        revenue_share=RevenueShare.model_validate(fields) if fields else None,
        not_understood=read.not_understood,
        warnings=[f"not understood: 「{part}」 (enter it in the fields, or leave it as text)"
                  for part in read.not_understood]
        + ([] if fields else ["no percent or fee per go-live could be read"]),
    )
