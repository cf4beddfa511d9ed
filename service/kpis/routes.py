"""Partnership KPIs and coverage gaps: partner managers' numbers and their recruiting list."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from catalog.vocabulary import PartnerType
from service.errors import BadRequest
from service.http.deps import ManagerDep, MatcherDep, SessionDep, SettingsDep
from service.http.forms import DayInput
from service.http.schemas import date_query
from service.kpis import gaps, groups, metrics, targets
from service.kpis.schemas import (
    PERIOD_PATTERN,
    GapReport,
    KpiGroups,
    KpiReport,
    KpiTargetRead,
    KpiTargetsWrite,
    TermsPrefill,
    TermsText,
)
from service.kpis.service import chosen_period, gap_report, kpi_report, prefill_terms

router = APIRouter(prefix="/v1", tags=["kpis"])

KPI_DESCRIPTION = (
    "Partnership KPIs for a period (`from`, `to`: dates, both included; by default the twelve "
    "calendar months up to today), in total and per partner (partners with an introduction "
    "engaged in the period or an initiative ending in it; `partner_id` keeps one). Money is in "
    "yen. An introduction counts with its current outcome, dated by when it reached it.\n\n"
    + "\n".join(f"- **{name}**: {text}" for name, text in metrics.definitions().items())
    + "\n\n**group_by** (`partner_type` or `partner`) returns instead each group's figures (the "
    "same definitions), its targets and its progress; the period is then by default the current "
    "quarter, and the targets are those set for exactly that quarter or month (`period`: "
    "2027-Q1, 2027-01); a period with none has figures and no progress. "
    + " ".join((groups.__doc__ or "").split()) + " Judged on: "
    + "; ".join(f"{kind}: {', '.join(names)}" for kind, names in groups.JUDGED_ON.items())
    + ".\n\n**Progress**: " + " ".join((targets.__doc__ or "").split("\n\n", 1)[-1].split())
)
GAPS_DESCRIPTION = " ".join((gaps.__doc__ or "").split())

FromDate = Annotated[DayInput | None, date_query("from", "First day, YYYY-MM-DD")]
ToDate = Annotated[DayInput | None, date_query("to", "Last day (included)")]


@router.get("/kpis", response_model=KpiReport | KpiGroups, description=KPI_DESCRIPTION)
def read_kpis(
    session: SessionDep,
    caller: ManagerDep,
    start: FromDate = None,
    end: ToDate = None,
    partner_id: Annotated[str | None, Query(max_length=36)] = None,
    period: Annotated[str | None, Query(pattern=PERIOD_PATTERN, description="A quarter "
                                        "(2027-Q1) or a month (2027-01), instead of from/to")] = None,
    group_by: Annotated[Literal["partner_type", "partner"] | None, Query()] = None,
) -> KpiReport | KpiGroups:
    """Partnership KPIs for a period, in total and per partner, or per group with targets and
    progress (definitions below)."""
    if group_by is None:
        return kpi_report(session, chosen_period(start, end, period), partner_id)
    if partner_id is not None:
        raise BadRequest("`partner_id` does not go with `group_by`")
    today = date.today()
    chosen = chosen_period(start, end, period, targets.current_quarter(today))
    return groups.kpi_groups(session, chosen, group_by, today)


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
    cutoff = settings.gap_threshold if threshold is None else threshold
    return gap_report(session, matcher.engine.glossary, cutoff, start, end, limit)


@router.post("/revenue-share/prefill", response_model=TermsPrefill, tags=["kpis"])
def prefill_revenue_share(body: TermsText, caller: ManagerDep) -> TermsPrefill:
    """Read revenue-share terms written in Japanese or English into the fields of a partner's
    `revenue_share`, to show back for confirmation (nothing is saved). Each part of the text not
    understood is a warning; amounts owed are computed from the saved fields only."""
    return prefill_terms(body.text)


TARGETS_DESCRIPTION = " ".join((targets.__doc__ or "").split())


@router.put("/kpi-targets", response_model=list[KpiTargetRead], tags=["kpis"],
            description=TARGETS_DESCRIPTION)
def put_kpi_targets(body: KpiTargetsWrite, session: SessionDep, caller: ManagerDep) -> list[KpiTargetRead]:
    """Set KPI targets: each one of a partner type or of one partner, for a quarter or a month
    (created, or changed where one exists for the same period, scope and metric; audited)."""
    rows = targets.upsert_targets(session, caller.label, [t.model_dump() for t in body.targets])
    return [KpiTargetRead.model_validate(row) for row in rows]


@router.get("/kpi-targets", response_model=list[KpiTargetRead], tags=["kpis"])
def read_kpi_targets(
    session: SessionDep,
    caller: ManagerDep,
    period: Annotated[str | None, Query(pattern=PERIOD_PATTERN)] = None,
    partner_type: PartnerType | None = None,
    partner_id: Annotated[str | None, Query(max_length=36)] = None,
) -> list[KpiTargetRead]:
    """The KPI targets, of one period, partner type or partner when given."""
    rows = targets.list_targets(session, period, partner_type, partner_id)
    return [KpiTargetRead.model_validate(row) for row in rows]
