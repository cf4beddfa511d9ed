"""Structured revenue-share terms as entered: the one validation every way in uses (the API's
schemas, the catalog file and the spreadsheet importers). Amounts owed are computed from these
fields only (`service/kpis/terms.py`)."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from catalog.vocabulary import RevenuePeriod


class RevenueShare(BaseModel):
    """Revenue-share terms as fields: amounts owed are computed from these only (the free-text
    `revenue_share_terms` stays beside them, as agreed, and never counts)."""

    model_config = ConfigDict(extra="forbid")

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


def checked_revenue_share(value: Any) -> tuple[dict[str, Any] | None, list[str]]:
    """The terms as stored (None for none), or the problems with them, one message each."""
    if value is None:
        return None, []
    try:
        return RevenueShare.model_validate(value).model_dump(), []
    except ValidationError as error:
        return None, [
            "revenue_share" + "".join(f".{p}" for p in e["loc"]) + f": {e['msg']}"
            for e in error.errors()
        ]
