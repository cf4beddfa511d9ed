"""Turning catalog rows into the matching engine's documents."""

from __future__ import annotations

from collections.abc import Iterable

from catalog.tables import NegotiationNote, Partner
from models.documents import Document

STATUS_PRIOR = {
    "active": 1.0, "negotiating": 0.7, "prospect": 0.5, "paused": 0.3, "ended": 0.0,
}
OUTCOME_VALUE = {"positive": 1.0, "neutral": 0.5, "pending": 0.5, "negative": 0.0}


def partner_document(partner: Partner, adoption: float | None = None) -> Document:
    """The searchable text of a partner. Confidential notes never enter the index, nor do
    incident notes (kind `issue`): an outage says nothing of what a partner does, and must never
    be quoted as the reason it matched (they still count in the negotiation prior)."""
    notes = [n for n in partner.notes if not n.confidential and n.deleted_at is None]
    described = [n for n in notes if n.kind != "issue"]
    sections: list[tuple[str, str]] = []
    sections += [("description", partner.description_en)] if partner.description_en else []
    sections += [("description_ja", partner.description_ja)] if partner.description_ja else []
    for benefit in partner.benefits or []:
        text = ". ".join(t for t in (benefit.get("title"), benefit.get("description")) if t)
        sections.append(("benefit", text))
    for plan in partner.pricing_plans or []:
        sections += [("feature", feature) for feature in plan.get("features", []) if feature]
    sections += [("capability", c.replace("-", " ")) for c in partner.capabilities or []]
    sections += [("category", c) for c in partner.categories or []]
    sections += [("note", n.body) for n in described]
    return Document(
        id=partner.id,
        title=partner.name,
        sections=tuple((kind, text.strip()) for kind, text in sections if text and text.strip()),
        facets=_facets(partner),
        priors=_priors(partner, notes, adoption),
    )


def _facets(partner: Partner) -> dict[str, frozenset[str]]:
    def lowered(values: Iterable[str | None]) -> frozenset[str]:
        return frozenset(v.lower() for v in values if v)

    return {
        "platforms": lowered(partner.platforms or []),
        "categories": lowered(partner.categories or []),
        "kind": lowered([partner.kind]),
        "status": lowered([partner.status]),
        "languages": lowered(partner.languages or []),
        "support_languages": lowered(partner.support_languages or []),
        "regions": lowered(partner.regions or []),
        "partner_type": lowered([partner.partner_type]),
    }


def _priors(
    partner: Partner, notes: list[NegotiationNote], adoption: float | None
) -> dict[str, float]:
    priors = {"status": STATUS_PRIOR.get(partner.status, 0.5)}
    outcomes = [OUTCOME_VALUE[n.outcome] for n in notes[:3] if n.outcome in OUTCOME_VALUE]
    if outcomes:
        priors["negotiation"] = sum(outcomes) / len(outcomes)
    if adoption is not None:
        priors["adoption"] = adoption
    return priors
