"""Schemas of introductions and joint initiatives. Inputs forbid unknown fields."""

from __future__ import annotations

import datetime as dt
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from catalog.vocabulary import InitiativeKind, InitiativeStatus, IntroductionStatus, RevenuePeriod
from service.http.forms import DayInput, YenInput
from service.http.schemas import Input, Output

# PostgreSQL's integer column holds up to 2,147,483,647: revenue is capped under it.
Yen = Field(default=None, ge=0, le=2_000_000_000, description="Yen, whole")


class IntroductionUpdate(Input):
    """Only the fields sent change. Moving `status` dates it (the date sent, else today)."""

    status: IntroductionStatus | None = None
    client: str | None = Field(default=None, max_length=200)
    revenue: YenInput | None = Yen
    revenue_period: RevenuePeriod | None = None
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    proposed_on: DayInput | None = None
    adopted_on: DayInput | None = None
    live_on: DayInput | None = None
    churned_on: DayInput | None = None
    rejected_on: DayInput | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "live", "live_on": "2026-10-01", "revenue": 30000,
                 "revenue_period": "monthly"},
                {"satisfaction": 4},
            ]
        }
    )


class IntroductionSummary(Output):
    """An introduction as the PM who proposed it sees it: its status and dates, no money."""

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
    created_at: dt.datetime
    updated_at: dt.datetime


class IntroductionRead(IntroductionSummary):
    """For partner managers and admins: with revenue, satisfaction and what is owed."""

    revenue: int | None
    revenue_period: RevenuePeriod
    satisfaction: int | None
    revenue_share_owed: int | None = Field(
        description="Owed by the partner so far under its revenue-share terms (yen); null when "
        "the partner has no structured revenue-share terms."
    )


class IntroductionPage(BaseModel):
    items: list[IntroductionRead] | list[IntroductionSummary]
    total: int


class InitiativeCreate(Input):
    partner_id: str = Field(min_length=1, max_length=36)
    kind: InitiativeKind
    title: str = Field(min_length=1, max_length=300)
    owner: str | None = Field(default=None, max_length=200)
    start_date: DayInput | None = None
    end_date: DayInput | None = None
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
    start_date: DayInput | None = None
    end_date: DayInput | None = None
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
