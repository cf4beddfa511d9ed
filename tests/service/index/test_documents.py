"""A partner's document: what of it is searchable, and what never is."""

from __future__ import annotations

from datetime import date

from catalog.tables import NegotiationNote, Partner
from service.index.documents import partner_document


def test_confidential_and_incident_notes_never_enter_the_index() -> None:
    partner = Partner(id="p", name="Point Club", kind="app", status="active", description_en="Loyalty.")
    partner.notes = [
        NegotiationNote(date=date(2026, 5, 1), kind="meeting", body="Member ranks work well.",
                        confidential=False, outcome="positive"),
        NegotiationNote(date=date(2026, 6, 1), kind="issue", body="Outage of the points API.",
                        confidential=False, outcome="negative"),
        NegotiationNote(date=date(2026, 7, 1), kind="contract", body="Secret discount.",
                        confidential=True, outcome="positive"),
    ]
    document = partner_document(partner)
    texts = " ".join(text for _, text in document.sections)
    assert "Member ranks" in texts and "Outage" not in texts and "Secret" not in texts
    assert document.priors["negotiation"] == 0.5  # the incident still weighs on the prior
