"""Partnership KPIs: pure functions over the facts (`facts.py` loads them).

A period is two dates, both included. Each KPI's definition is in its function's docstring, in the
README (section "KPIs") and in the OpenAPI description of `GET /v1/kpis`; keep the three in step.
An introduction counts with its *current* outcome, dated by when it reached it: an introduction
adopted in March and rejected in April is a rejection of April, not an adoption of March.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from catalog.vocabulary import ADOPTED
from service.kpis.schemas import KpiValues
from service.kpis.terms import ShareTerms

EARNING = ("live", "churned")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    def __contains__(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end

    def months(self) -> list[Period]:
        """The calendar months the period touches, each cut to the period."""
        months, first = [], self.start.replace(day=1)
        while first <= self.end:
            following = _next_month(first)
            months.append(Period(max(first, self.start), min(following - timedelta(1), self.end)))
            first = following
        return months


@dataclass(frozen=True)
class IntroFacts:
    partner_id: str
    status: str
    proposed_on: date | None = None
    adopted_on: date | None = None
    live_on: date | None = None
    churned_on: date | None = None
    rejected_on: date | None = None
    revenue: int | None = None
    revenue_period: str = "one_off"
    satisfaction: int | None = None


@dataclass(frozen=True)
class InitiativeFacts:
    partner_id: str
    status: str
    start_date: date | None = None
    end_date: date | None = None


@dataclass(frozen=True)
class Facts:
    introductions: Sequence[IntroFacts] = ()
    initiatives: Sequence[InitiativeFacts] = ()
    terms: dict[str, ShareTerms] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


# -- the KPIs, one pure function each ---------------------------------------------------------


def counted_revenue(intro: IntroFacts, period: Period) -> int:
    """The revenue of one introduction that falls in the period (see partner_sourced_revenue)."""
    if not intro.revenue or intro.status not in ADOPTED:
        return 0
    if intro.revenue_period != "monthly":
        return intro.revenue if (intro.live_on or intro.adopted_on) in period else 0
    if intro.live_on is None or intro.status not in EARNING:
        return 0
    live = Period(intro.live_on, intro.churned_on or period.end)
    overlap = Period(max(live.start, period.start), min(live.end, period.end))
    return intro.revenue * len(overlap.months()) if overlap.start <= overlap.end else 0


def partner_sourced_revenue(intros: Iterable[IntroFacts], period: Period) -> int:
    """Revenue (yen) of the introductions that falls in the period.

    One-off revenue counts once, on the day the introduction went live (its adoption day when it
    has no live date), if that day is in the period and the introduction is adopted, live or
    churned. Monthly revenue counts once for every calendar month that overlaps both the period and
    the time the introduction was live (from `live_on` to `churned_on`, both months included).
    """
    return sum(counted_revenue(intro, period) for intro in intros)


def revenue_share_owed(
    intros: Iterable[IntroFacts], period: Period, terms: dict[str, ShareTerms]
) -> int | None:
    """What partners owe under their structured revenue-share terms for the period (yen, rounded
    down), the sum of `owed` over the introductions. None when no partner concerned has terms.
    """
    owed_total, any_terms = 0.0, False
    for intro in intros:
        share = terms.get(intro.partner_id, ShareTerms())
        any_terms = any_terms or share.readable
        owed_total += owed(intro, share, period)
    return int(owed_total) if any_terms else None


def owed(intro: IntroFacts, terms: ShareTerms, period: Period) -> float:
    """What one introduction owes in the period: `percent` of its `counted_revenue` and the fee
    per go-live (once, in the period it went live; or, monthly, for each month live in it), both
    only for the `months` from the go-live month on when the terms say so; at most `cap` over the
    introduction's life (what the period adds to the total owed before it)."""
    before = _owed_until(intro, terms, period.start - timedelta(days=1)) if period.start > date.min else 0.0
    until_end = _owed_until(intro, terms, period.end)
    if terms.cap is not None:
        before, until_end = min(before, terms.cap), min(until_end, terms.cap)
    return until_end - before


def owed_to_date(intro: IntroFacts, terms: ShareTerms, today: date) -> float:
    """What one introduction owes from its start up to today (see `owed`)."""
    return min(_owed_until(intro, terms, today), terms.cap if terms.cap is not None else math.inf)


def _owed_until(intro: IntroFacts, terms: ShareTerms, day: date) -> float:
    if not terms.readable:
        return 0.0
    end = min(day, _share_end(intro, terms))
    so_far = Period(date.min, end)
    total = counted_revenue(intro, so_far) * (terms.percent or 0) / 100
    if terms.per_go_live and intro.live_on in so_far and intro.status in EARNING:
        if terms.fee_period == "monthly":
            live = Period(intro.live_on, min(intro.churned_on or end, end))  # type: ignore[arg-type]
            total += terms.per_go_live * len(live.months())
        else:
            total += terms.per_go_live
    return total


def _share_end(intro: IntroFacts, terms: ShareTerms) -> date:
    """The last day the terms pay for: the end of the `months`-th month from the go-live."""
    start = intro.live_on or intro.adopted_on
    if terms.months is None or start is None:
        return date.max
    first = start.replace(day=1)
    for _ in range(terms.months):
        first = _next_month(first)
    return first - timedelta(days=1)


def introductions(intros: Iterable[IntroFacts], period: Period) -> int:
    """Introductions proposed in the period (`proposed_on` in it), whatever became of them."""
    return sum(intro.proposed_on in period for intro in intros)


def adoptions(intros: Iterable[IntroFacts], period: Period) -> int:
    """Introductions that reached adopted (now adopted, live or churned), adopted in the period."""
    return sum(intro.status in ADOPTED and intro.adopted_on in period for intro in intros)


def rejections(intros: Iterable[IntroFacts], period: Period) -> int:
    """Introductions now rejected ("not a fit"), rejected in the period."""
    return sum(intro.status == "rejected" and intro.rejected_on in period for intro in intros)


def adoption_rate(intros: Sequence[IntroFacts], period: Period) -> float | None:
    """adoptions / (adoptions + rejections): the share of the period's decisions that adopted.
    Introductions still proposed are undecided and left out. None when nothing was decided."""
    return _ratio(adoptions(intros, period), adoptions(intros, period) + rejections(intros, period))


def engaged(intro: IntroFacts, period: Period) -> bool:
    """The introduction was proposed, adopted, rejected, went live or churned in the period, or
    was live during it."""
    dates = (intro.proposed_on, intro.adopted_on, intro.rejected_on, intro.live_on,
             intro.churned_on)
    return any(day in period for day in dates) or _live_during(intro, period)


def active_partners(intros: Iterable[IntroFacts], period: Period) -> int:
    """Distinct partners with at least one introduction proposed, adopted, rejected, gone live
    or churned in the period, or live during it."""
    return len({intro.partner_id for intro in intros if engaged(intro, period)})


def initiative_success_rate(
    initiatives: Iterable[InitiativeFacts], period: Period
) -> float | None:
    """succeeded / (succeeded + failed) over joint initiatives whose `end_date` is in the period.
    Planned, running and cancelled initiatives are left out. None when none ended so."""
    ended = [i.status for i in initiatives if i.end_date in period]
    return _ratio(ended.count("succeeded"), ended.count("succeeded") + ended.count("failed"))


def active_installs(intros: Iterable[IntroFacts], period: Period) -> int:
    """Introductions live on the period's last day: gone live by then and not churned by then."""
    return sum(
        i.status in EARNING and i.live_on is not None and i.live_on <= period.end
        and (i.churned_on is None or i.churned_on > period.end)
        for i in intros
    )


def joint_initiatives(initiatives: Iterable[InitiativeFacts], period: Period) -> int:
    """Joint initiatives held in the period: started by its last day (or without a start date)
    and not ended before its first day; cancelled ones are left out."""
    return sum(
        i.status != "cancelled"
        and (i.start_date is None or i.start_date <= period.end)
        and (i.end_date is None or i.end_date >= period.start)
        and (i.start_date is not None or i.end_date is not None)
        for i in initiatives
    )


def churn_rate(intros: Sequence[IntroFacts], period: Period) -> float | None:
    """churned in the period / (live at its start + went live in it).

    Live at the start: went live before the period and had not churned before its first day.
    None when no introduction was live in the period."""
    churned = sum(i.status == "churned" and i.churned_on in period for i in intros)
    at_start = sum(
        i.live_on is not None and i.live_on < period.start
        and (i.churned_on is None or i.churned_on >= period.start)
        for i in intros
    )
    went_live = sum(i.live_on in period for i in intros)
    return _ratio(churned, at_start + went_live)


def csat(intros: Iterable[IntroFacts], period: Period) -> float | None:
    """Mean satisfaction (1-5) over the introductions with a score that were proposed, adopted,
    rejected, went live or churned in the period, or were live during it. None when none."""
    scores = [i.satisfaction for i in intros if i.satisfaction is not None and engaged(i, period)]
    return round(sum(scores) / len(scores), 2) if scores else None


def compute(facts: Facts, period: Period) -> KpiValues:
    intros = list(facts.introductions)
    return KpiValues(
        partner_sourced_revenue=partner_sourced_revenue(intros, period),
        revenue_share_owed=revenue_share_owed(intros, period, facts.terms),
        introductions=introductions(intros, period),
        adoptions=adoptions(intros, period),
        rejections=rejections(intros, period),
        adoption_rate=adoption_rate(intros, period),
        active_partners=active_partners(intros, period),
        initiative_success_rate=initiative_success_rate(facts.initiatives, period),
        churn_rate=churn_rate(intros, period),
        csat=csat(intros, period),
    )


def per_partner(facts: Facts, period: Period) -> dict[str, KpiValues]:
    """The same KPIs for each partner with an engaged introduction or an initiative ending in the
    period, ordered by revenue, then adoptions, then introductions (largest first)."""
    ids = {i.partner_id for i in facts.introductions if engaged(i, period)}
    ids |= {i.partner_id for i in facts.initiatives if i.end_date in period}
    result = {pid: compute(only(facts, pid), period) for pid in ids}
    order = sorted(result, key=lambda pid: (
        -result[pid].partner_sourced_revenue, -result[pid].adoptions,
        -result[pid].introductions, facts.names.get(pid, pid),
    ))
    return {pid: result[pid] for pid in order}


def only(facts: Facts, partner_id: str) -> Facts:
    return replace(
        facts,
        introductions=[i for i in facts.introductions if i.partner_id == partner_id],
        initiatives=[i for i in facts.initiatives if i.partner_id == partner_id],
    )


def default_period(today: date) -> Period:
    """The twelve calendar months up to today: from the 1st of the month eleven months back."""
    first = today.replace(day=1)
    for _ in range(11):
        first = (first - timedelta(days=1)).replace(day=1)
    return Period(first, today)


def _live_during(intro: IntroFacts, period: Period) -> bool:
    return (
        intro.live_on is not None and intro.live_on <= period.end
        and (intro.churned_on is None or intro.churned_on >= period.start)
    )


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def definitions() -> dict[str, str]:
    """Each KPI's definition, from its function's docstring (the OpenAPI description uses it)."""
    functions = {
        "partner_sourced_revenue": partner_sourced_revenue, "revenue_share_owed": revenue_share_owed,
        "introductions": introductions, "adoptions": adoptions, "rejections": rejections,
        "adoption_rate": adoption_rate, "active_partners": active_partners,
        "initiative_success_rate": initiative_success_rate, "churn_rate": churn_rate,
        "csat": csat, "active_installs": active_installs, "joint_initiatives": joint_initiatives,
    }
    return {name: " ".join(inspect.cleandoc(f.__doc__ or "").split()) for name, f in functions.items()}
