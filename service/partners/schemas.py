"""Schemas of partners, their negotiation notes and contacts. Inputs forbid unknown fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from catalog.vocabulary import (
    NOTE_LIMITS,
    PARTNER_LIMITS,
    NoteKind,
    NoteOutcome,
    PartnerKind,
    PartnerStatus,
    PartnerType,
)
from service.http.forms import DayInput
from service.http.schemas import Input, Output, Tags, Text
from service.kpis.schemas import RevenueShare


class PartnerFields(Input):
    vendor: str | None = Field(default=None, max_length=PARTNER_LIMITS["vendor"])
    description_en: str = Text
    description_ja: str = Text
    capabilities: list[str] = Tags
    categories: list[str] = Tags
    platforms: list[str] = Tags
    languages: list[str] = Tags
    support_languages: list[str] = Tags
    regions: list[str] = Tags
    pricing_summary: str | None = Field(default=None, max_length=PARTNER_LIMITS["pricing_summary"])
    rating: float | None = Field(default=None, ge=0, le=5)
    review_count: int | None = Field(default=None, ge=0)
    url: str | None = Field(default=None, max_length=PARTNER_LIMITS["url"])
    partner_type: PartnerType | None = None
    status: PartnerStatus = "prospect"
    revenue_share_terms: str | None = Field(default=None, max_length=PARTNER_LIMITS["revenue_share_terms"])
    revenue_share: RevenueShare | None = None


class PartnerCreate(PartnerFields):
    name: str = Field(min_length=1, max_length=PARTNER_LIMITS["name"])
    kind: PartnerKind
    external_id: str | None = Field(default=None, min_length=1, max_length=PARTNER_LIMITS["external_id"])

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "KonbiniPay Connect",
                    "kind": "app",
                    "description_en": "Konbini and deferred payment for Shopify stores.",
                    "description_ja": "Shopifyストア向けのコンビニ決済・後払いアプリ。",
                    "capabilities": ["konbini-payment", "deferred-payment"],
                    "platforms": ["Shopify", "Shopify Plus"],
                    "status": "active",
                }
            ]
        }
    )


class PartnerUpdate(Input):
    """Every field optional: only the fields sent change."""

    name: str | None = Field(default=None, min_length=1, max_length=PARTNER_LIMITS["name"])
    kind: PartnerKind | None = None
    vendor: str | None = Field(default=None, max_length=PARTNER_LIMITS["vendor"])
    description_en: str | None = Field(default=None, max_length=PARTNER_LIMITS["description_en"])
    description_ja: str | None = Field(default=None, max_length=PARTNER_LIMITS["description_ja"])
    capabilities: list[str] | None = Field(default=None, max_length=100)
    categories: list[str] | None = Field(default=None, max_length=100)
    platforms: list[str] | None = Field(default=None, max_length=100)
    languages: list[str] | None = Field(default=None, max_length=100)
    support_languages: list[str] | None = Field(default=None, max_length=100)
    regions: list[str] | None = Field(default=None, max_length=100)
    pricing_summary: str | None = Field(default=None, max_length=PARTNER_LIMITS["pricing_summary"])
    rating: float | None = Field(default=None, ge=0, le=5)
    review_count: int | None = Field(default=None, ge=0)
    url: str | None = Field(default=None, max_length=PARTNER_LIMITS["url"])
    partner_type: PartnerType | None = None
    status: PartnerStatus | None = None
    revenue_share_terms: str | None = Field(default=None, max_length=PARTNER_LIMITS["revenue_share_terms"])
    revenue_share: RevenueShare | None = None

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "active", "capabilities": ["subscriptions"]}]}
    )


class PartnerSummary(Output):
    id: str
    external_id: str
    name: str
    vendor: str | None
    kind: str
    categories: list[str]
    platforms: list[str]
    status: str
    url: str | None


class PartnerRead(PartnerSummary):
    source: str
    description_en: str
    description_ja: str
    capabilities: list[str]
    languages: list[str]
    support_languages: list[str]
    regions: list[str]
    benefits: list[dict[str, Any]]
    pricing_plans: list[dict[str, Any]]
    pricing_summary: str | None
    rating: float | None
    review_count: int | None
    partner_type: str | None
    archived_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class PartnerReadFull(PartnerRead):
    """For partner managers and admins: with the revenue-share terms."""

    revenue_share_terms: str | None
    revenue_share: RevenueShare | None


class PartnerPage(BaseModel):
    items: list[PartnerReadFull] | list[PartnerRead]
    total: int


class NoteCreate(Input):
    kind: NoteKind
    body: str = Field(min_length=1, max_length=NOTE_LIMITS["body"])
    confidential: bool = False
    date: DayInput | None = None
    author: str | None = Field(default=None, max_length=NOTE_LIMITS["author"])
    outcome: NoteOutcome | None = None
    terms: str | None = Field(default=None, max_length=NOTE_LIMITS["terms"])

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "meeting",
                    "body": "Onboarding took two weeks; their Japanese support answers within a day.",
                    "confidential": False,
                    "date": "2026-10-01",
                    "outcome": "positive",
                }
            ]
        }
    )


class NoteUpdate(Input):
    kind: NoteKind | None = None
    body: str | None = Field(default=None, min_length=1, max_length=NOTE_LIMITS["body"])
    confidential: bool | None = None
    date: DayInput | None = None
    author: str | None = Field(default=None, max_length=NOTE_LIMITS["author"])
    outcome: NoteOutcome | None = None
    terms: str | None = Field(default=None, max_length=NOTE_LIMITS["terms"])


class NoteRead(Output):
    """A note as a PM reads it: never its commercial terms (and never a confidential note)."""

    id: str
    partner_id: str
    date: dt.date
    author: str | None
    kind: str
    body: str
    outcome: str | None
    confidential: bool


class NoteReadFull(NoteRead):
    """For partner managers and admins: with the terms the note records."""

    terms: str | None


class ContactCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None


class ContactUpdate(Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None


class ContactRead(Output):
    id: str
    partner_id: str
    name: str
    role: str | None
    email: str | None
