"""Schemas of the KPIs and the coverage gaps."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


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
