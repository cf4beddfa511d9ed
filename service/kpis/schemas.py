"""Schemas of the KPIs and the coverage gaps."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from catalog.vocabulary import PARTNER_LIMITS, RevenuePeriod
from service.http.schemas import Input


class RevenueShare(Input):
    """Revenue-share terms as fields: amounts owed are computed from these only (the free-text
    `revenue_share_terms` stays beside them, as agreed, and never counts)."""

    percent: float | None = Field(default=None, ge=0, le=100,
                                  description="Share of the revenue an introduction brings (%)")
    months: int | None = Field(default=None, ge=1, le=600, description="For how many months "
                               "from the go-live the share is owed (none: without end)")
    per_go_live: int | None = Field(default=None, ge=0, le=10**10,
                                    description="Fixed fee per introduction going live")
    fee_period: RevenuePeriod = Field(default="one_off", description="The fixed fee is paid once "
                                      "(one_off) or for every month the introduction is live")
    cap: int | None = Field(default=None, ge=0, le=10**12,
                            description="The most owed on one introduction over its life")
    currency: Literal["JPY"] = "JPY"

    @model_validator(mode="after")
    def _something_owed(self) -> Self:
        if self.percent is None and self.per_go_live is None:
            raise ValueError("terms need a percent or a fee per go-live")
        return self


class TermsText(Input):
    text: str = Field(min_length=1, max_length=PARTNER_LIMITS["revenue_share_terms"])


class TermsPrefill(BaseModel):
    """Fields read from the text, to be shown back and confirmed before they are saved; what
    was not understood is listed, one warning per part."""

    revenue_share: RevenueShare | None
    not_understood: list[str]
    warnings: list[str]


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
