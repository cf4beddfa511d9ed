"""The partner domain's vocabularies, defined once.

Each is a `Literal` (what the API schemas validate against) and the tuple of its values (what the
importers check cells against). The catalog file's JSON Schema (`schema/catalog.schema.json`)
repeats them as enums; a test holds the two together.
"""

from __future__ import annotations

from typing import Literal, get_args

PartnerKind = Literal["app", "integration", "service_partner", "platform", "agency"]
PartnerType = Literal["reseller", "system_integration", "brand_collaboration", "referral"]
# What a partner's status may be set to; "archived" is reached only by archiving it.
PartnerStatus = Literal["prospect", "negotiating", "active", "paused", "ended"]
ARCHIVED = "archived"
NoteKind = Literal["meeting", "proposal", "contract", "issue", "review"]
NoteOutcome = Literal["positive", "neutral", "negative", "pending"]
IntroductionStatus = Literal["proposed", "adopted", "live", "churned", "rejected"]
RevenuePeriod = Literal["one_off", "monthly"]
Verdict = Literal["proposed", "adopted", "not_a_fit"]
InitiativeKind = Literal["event", "co_promotion", "co_selling", "referral_exchange"]
InitiativeStatus = Literal["planned", "running", "succeeded", "failed", "cancelled"]
# The KPI figures a target may be set on (`service/kpis/metrics.py` defines each), and its sense.
KpiMetric = Literal[
    "partner_sourced_revenue", "introductions", "adoptions", "adoption_rate", "active_partners",
    "active_installs", "joint_initiatives", "initiative_success_rate", "churn_rate", "csat",
]
TargetDirection = Literal["at_least", "at_most"]

PARTNER_KINDS: tuple[str, ...] = get_args(PartnerKind)
PARTNER_TYPES: tuple[str, ...] = get_args(PartnerType)
PARTNER_STATUSES: tuple[str, ...] = get_args(PartnerStatus)
NOTE_KINDS: tuple[str, ...] = get_args(NoteKind)
NOTE_OUTCOMES: tuple[str, ...] = get_args(NoteOutcome)
INTRODUCTION_STATUSES: tuple[str, ...] = get_args(IntroductionStatus)
REVENUE_PERIODS: tuple[str, ...] = get_args(RevenuePeriod)
VERDICTS: tuple[str, ...] = get_args(Verdict)
INITIATIVE_KINDS: tuple[str, ...] = get_args(InitiativeKind)
INITIATIVE_STATUSES: tuple[str, ...] = get_args(InitiativeStatus)
KPI_METRICS: tuple[str, ...] = get_args(KpiMetric)
TARGET_DIRECTIONS: tuple[str, ...] = get_args(TargetDirection)

# The longest text each field takes, from any import or the API (characters).
PARTNER_LIMITS = {
    "external_id": 128, "name": 300, "vendor": 300, "description_en": 20_000,
    "description_ja": 20_000, "pricing_summary": 2_000, "url": 500, "revenue_share_terms": 2_000,
}
NOTE_LIMITS = {"external_id": 128, "author": 200, "body": 20_000, "terms": 2_000}
TAG_LIMIT = 200  # one capability, category, platform, language or region

# Introductions that reached adoption, whatever became of them since.
ADOPTED = ("adopted", "live", "churned")

# The catalog file's own tags (the API and the other importers take any text for these).
CATEGORIES = (
    "payments", "subscriptions", "reviews", "loyalty", "messaging", "marketing", "logistics",
    "delivery", "erp", "wms", "marketplace", "b2b", "translation", "analytics",
    "customer-support", "store-design", "inventory", "pos", "tax-accounting", "gifting",
    "fulfillment", "social-commerce", "search", "personalization", "security", "agency-services",
)
PLATFORMS = (
    "Shopify", "Shopify Plus", "Shopify POS", "headless", "Mirakl", "Rakuten Ichiba",
    "Amazon.co.jp", "Yahoo! Shopping", "LINE", "NetSuite", "freee",
)
REGIONS = ("JP", "APAC", "US", "EU", "global")
