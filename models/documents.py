"""What the matching engine indexes and returns: plain data, no database, no web."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """One partner as text. `sections` are (kind, text) pairs in display order.

    Section kinds: "description" (English), "description_ja", "benefit", "feature" (pricing plan
    features), "capability", "category", "note" (non-confidential negotiation notes only).
    `facets` hold the values filters select on (platforms, categories, kind, status, languages,
    support_languages, regions, partner_type), lower-cased. `priors` are bounded business signals
    in [0, 1] (e.g. "status", "negotiation", "adoption"); absent means neutral.
    """

    id: str
    title: str
    sections: tuple[tuple[str, str], ...] = ()
    facets: Mapping[str, frozenset[str]] = field(default_factory=dict)
    priors: Mapping[str, float] = field(default_factory=dict)

    def texts(self, *kinds: str) -> list[str]:
        return [text for kind, text in self.sections if not kinds or kind in kinds]
