"""Schemas of recommendations and the feedback on them. Inputs forbid unknown fields."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from catalog.vocabulary import IntroductionStatus, PartnerKind, PartnerStatus, PartnerType, Verdict
from service.http.forms import DayInput
from service.http.schemas import Input, Tags
from service.partners.schemas import PartnerSummary


class Filters(Input):
    platforms: list[str] = Tags
    categories: list[str] = Tags
    kinds: list[PartnerKind] = Field(default_factory=list)
    statuses: list[PartnerStatus] = Field(default_factory=list)
    languages: list[str] = Tags
    support_languages: list[str] = Tags
    regions: list[str] = Tags
    partner_types: list[PartnerType] = Field(default_factory=list)

    def facets(self) -> dict[str, set[str]]:
        names = {"kinds": "kind", "statuses": "status", "partner_types": "partner_type"}
        return {
            names.get(field, field): {v.lower() for v in values}
            for field, values in self.model_dump().items()
            if values
        }


class ClientInfo(Input):
    name: str | None = Field(default=None, max_length=200)
    plan: str | None = Field(default=None, max_length=100)
    industry: str | None = Field(default=None, max_length=200)


class RecommendationCreate(Input):
    query: str = Field(min_length=1, max_length=2000)
    top_k: int = Field(default=5, ge=1, le=50)
    filters: Filters = Field(default_factory=Filters)
    client: ClientInfo = Field(default_factory=ClientInfo)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"query": "定期購入を入れたい", "top_k": 5},
                {
                    "query": "The client wants konbini payment and deferred payment",
                    "top_k": 10,
                    "filters": {"platforms": ["Shopify Plus"], "statuses": ["active"]},
                    "client": {"name": "Coffee Roasters KK"},
                },
            ]
        }
    )


class Evidence(BaseModel):
    kind: str
    text: str


class CandidateNote(BaseModel):
    id: str
    date: dt.date
    kind: str
    body: str
    outcome: str | None
    confidential: bool


class Candidate(BaseModel):
    rank: int
    score: float
    partner: PartnerSummary
    why: str
    matched: list[str]
    evidence: Evidence | None
    signals: dict[str, float]
    notes: list[CandidateNote]
    adoptions: dict[str, float]


class SimilarPartner(BaseModel):
    """A partner like another one: what any role may read of it (no notes, no terms)."""

    rank: int
    score: float
    partner: PartnerSummary


class RecommendationRead(BaseModel):
    request_id: str
    language: str
    took_ms: float
    candidates: list[Candidate]
    channels: list[str] = Field(description="The channels that ranked: bm25, dense, multilingual")
    complete: bool = Field(description="False while a large catalog's vectors are still being "
                           "encoded: listings not encoded yet were ranked by keyword only")


# Feedback


class FeedbackCreate(Input):
    partner_id: str = Field(min_length=1, max_length=36)
    verdict: Verdict
    client: str | None = Field(default=None, max_length=200)
    comment: str | None = Field(default=None, max_length=2000)
    proposed_on: DayInput | None = Field(default=None, description="When it was proposed")
    adopted_on: DayInput | None = Field(default=None, description="When it was adopted")
    live_on: DayInput | None = Field(default=None, description="When it went live (adopted only)")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"partner_id": "5b0c…", "verdict": "adopted", "client": "Sakura Tea KK",
                 "comment": "Client chose it for the Japanese support."},
                {"partner_id": "5b0c…", "verdict": "adopted", "proposed_on": "2026-09-01",
                 "adopted_on": "2026-09-20", "live_on": "2026-10-01"}
            ]
        }
    )


class FeedbackRead(BaseModel):
    introduction_id: str
    request_id: str
    partner_id: str
    verdict: Verdict
    status: IntroductionStatus
