"""Schemas of the KPIs and the coverage gaps (`RevenueShare` is the catalog's: one validation
for the API and the importers)."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from catalog.revenue_share import RevenueShare
from catalog.vocabulary import (
    PARTNER_LIMITS,
    KpiMetric,
    PartnerType,
    TargetDirection,
)
from service.http.schemas import Input

# A period's year: 1900 to 2999 (a date holds neither year 0 nor the month after 9999-12).
PERIOD_YEAR = r"((?:19|2\d)\d{2})"
PERIOD_PATTERN = rf"^{PERIOD_YEAR}-(Q[1-4]|0[1-9]|1[0-2])$"


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
    vague: bool
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
    from_: dt.date = Field(serialization_alias="from")
    to: dt.date
    groups: list[GapGroup]  # real recruiting needs
    vague: list[GapGroup]  # vague requests ("grow sales"), apart


class KpiTargetWrite(Input):
    """One target: of a partner type or of one partner (exactly one of the two), for a quarter
    ("2027-Q1") or a month ("2027-01"). Rates (adoption_rate, churn_rate,
    initiative_success_rate) are shares (0.05 for 5%), CSAT 1-5, revenue in yen."""

    period: str = Field(pattern=PERIOD_PATTERN, examples=["2027-Q1", "2027-01"])
    partner_type: PartnerType | None = None
    partner_id: str | None = Field(default=None, max_length=36)
    metric: KpiMetric
    direction: TargetDirection | None = Field(default=None, description="Default: at_most for "
                                              "churn_rate, at_least for the others")
    target: float = Field(ge=0, le=10**12)

    @model_validator(mode="after")
    def _one_scope(self) -> Self:
        if (self.partner_type is None) == (self.partner_id is None):
            raise ValueError("give a partner_type or a partner_id (one of the two)")
        if self.direction is None:
            self.direction = "at_most" if self.metric == "churn_rate" else "at_least"
        return self


class KpiTargetsWrite(Input):
    targets: list[KpiTargetWrite] = Field(min_length=1, max_length=500)


class KpiTargetRead(BaseModel):
    model_config = {"from_attributes": True}

    id: str
    period: str
    partner_type: str | None
    partner_id: str | None
    metric: str
    direction: str
    target: float
    updated_at: dt.datetime
    updated_by: str


class TargetProgress(BaseModel):
    metric: str
    direction: str
    target: int | float
    value: int | float | None
    ratio: float | None
    status: Literal["on_track", "at_risk", "missed", "met", "no_data"]


class Figure(BaseModel):
    metric: str
    value: int | float | None
    judged_on: bool


class KpiGroup(BaseModel):
    key: str
    name: str
    partner_type: str | None
    figures: list[Figure]
    progress: list[TargetProgress]


class KpiGroups(BaseModel):
    from_: dt.date = Field(serialization_alias="from")
    to: dt.date
    group_by: Literal["partner_type", "partner"]
    target_period: str | None
    elapsed: float
    groups: list[KpiGroup]
