"""Schemas of the feedback loop: feedback, introductions, joint initiatives, KPIs and gaps."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, Self

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.schemas import Input, Output

Verdict = Literal["proposed", "adopted", "not_a_fit"]
IntroductionStatus = Literal["proposed", "adopted", "live", "churned", "rejected"]
RevenuePeriod = Literal["one_off", "monthly"]
InitiativeKind = Literal["event", "co_promotion", "co_selling", "referral_exchange"]
InitiativeStatus = Literal["planned", "running", "succeeded", "failed", "cancelled"]

# PostgreSQL's integer column holds up to 2,147,483,647: revenue is capped under it.
Yen = Field(default=None, ge=0, le=2_000_000_000, description="Yen, whole")
# Dates a period may start or end on: far enough for any report, and month arithmetic stays valid.
EARLIEST, LATEST = dt.date(1970, 1, 1), dt.date(2999, 12, 31)


def date_query(alias: str, description: str) -> Any:
    """A date query parameter (`from`, `to`) within EARLIEST..LATEST."""
    return Query(alias=alias, ge=EARLIEST, le=LATEST, description=description)


# Feedback


class FeedbackCreate(Input):
    partner_id: str = Field(min_length=1, max_length=36)
    verdict: Verdict
    client: str | None = Field(default=None, max_length=200)
    comment: str | None = Field(default=None, max_length=2000)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"partner_id": "5b0c…", "verdict": "adopted", "client": "Sakura Tea KK",
                 "comment": "Client chose it for the Japanese support."}
            ]
        }
    )


class FeedbackRead(BaseModel):
    introduction_id: str
    request_id: str
    partner_id: str
    verdict: Verdict
    status: IntroductionStatus


# Introductions


class IntroductionUpdate(Input):
    """Only the fields sent change. Moving `status` dates it (the date sent, else today)."""

    status: IntroductionStatus | None = None
    client: str | None = Field(default=None, max_length=200)
    revenue: int | None = Yen
    revenue_period: RevenuePeriod | None = None
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    proposed_on: dt.date | None = None
    adopted_on: dt.date | None = None
    live_on: dt.date | None = None
    churned_on: dt.date | None = None
    rejected_on: dt.date | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "live", "live_on": "2026-10-01", "revenue": 30000,
                 "revenue_period": "monthly"},
                {"satisfaction": 4},
            ]
        }
    )

    @model_validator(mode="after")
    def _period_not_null(self) -> Self:
        if "revenue_period" in self.model_fields_set and self.revenue_period is None:
            raise ValueError("revenue_period cannot be null")
        return self


class IntroductionRead(Output):
    id: str
    partner_id: str
    partner_name: str
    request_id: str | None
    client: str | None
    request_text: str
    status: IntroductionStatus
    proposed_on: dt.date | None
    adopted_on: dt.date | None
    live_on: dt.date | None
    churned_on: dt.date | None
    rejected_on: dt.date | None
    revenue: int | None
    revenue_period: RevenuePeriod
    satisfaction: int | None
    revenue_share_owed: int | None = Field(
        description="Owed by the partner so far under its revenue-share terms (yen); null when "
        "the terms carry no readable percentage or per-go-live fee."
    )
    created_at: dt.datetime
    updated_at: dt.datetime


class IntroductionPage(BaseModel):
    items: list[IntroductionRead]
    total: int


# Joint initiatives


class InitiativeCreate(Input):
    partner_id: str = Field(min_length=1, max_length=36)
    kind: InitiativeKind
    title: str = Field(min_length=1, max_length=300)
    owner: str | None = Field(default=None, max_length=200)
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    status: InitiativeStatus = "planned"
    outcome: str | None = Field(default=None, max_length=5000)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"partner_id": "5b0c…", "kind": "event", "title": "Joint webinar: subscriptions",
                 "owner": "Tanaka", "start_date": "2026-11-10", "end_date": "2026-11-10",
                 "status": "planned"}
            ]
        }
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class InitiativeUpdate(Input):
    kind: InitiativeKind | None = None
    title: str | None = Field(default=None, min_length=1, max_length=300)
    owner: str | None = Field(default=None, max_length=200)
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    status: InitiativeStatus | None = None
    outcome: str | None = Field(default=None, max_length=5000)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": "succeeded", "outcome": "212 sign-ups, 9 new merchants"}]
        }
    )


class InitiativeRead(Output):
    id: str
    partner_id: str
    kind: InitiativeKind
    title: str
    owner: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    status: InitiativeStatus
    outcome: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class InitiativePage(BaseModel):
    items: list[InitiativeRead]
    total: int


# KPIs and gaps


class KpiValues(BaseModel):
    partner_sourced_revenue: int
    revenue_share_owed: int | None
    introductions: int
    adoptions: int
    rejections: int
    adoption_rate: float | None
    active_partners: int
    initiative_success_rate: float | None
    churn_rate: float | None
    csat: float | None


class PartnerKpis(KpiValues):
    partner_id: str
    name: str


class KpiReport(KpiValues):
    from_: dt.date = Field(serialization_alias="from")
    to: dt.date
    partner_id: str | None
    partners: list[PartnerKpis]


class GapGroup(BaseModel):
    key: str
    label: str
    concepts: list[str]
    requests: int
    reasons: dict[str, int]
    best_score: float | None
    first_asked: dt.datetime
    last_asked: dt.datetime
    queries: list[str]
    request_ids: list[str]


class GapReport(BaseModel):
    threshold: float
    from_: dt.date | None = Field(serialization_alias="from")
    to: dt.date | None
    groups: list[GapGroup]
