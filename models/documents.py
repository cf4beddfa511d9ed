"""What the matching engine indexes and returns: plain data, no database, no web."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


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


class SharedValues:
    """One copy of each equal small value across many documents: section kinds, facet sets,
    facet and prior mappings, concept sets. At 100,000 listings these repeat across nearly all
    of them, and separate copies cost about 300 MB. Texts are left alone (rarely equal)."""

    def __init__(self) -> None:
        self._values: dict[object, Any] = {}

    def value(self, value: T) -> T:
        return self._values.setdefault(value, value)

    def document(self, document: Document) -> Document:
        return self.make(document.id, document.title, document.sections, document.facets,
                         document.priors)

    def make(
        self, id: str, title: str, sections: Iterable[Sequence[str]],
        facets: Mapping[str, Iterable[str]], priors: Mapping[str, float],
    ) -> Document:
        """A Document from plain values (as read from JSON), sharing what repeats."""
        shared_facets = {sys.intern(key): self.value(frozenset(values))
                         for key, values in facets.items()}
        shared_priors = {sys.intern(key): float(value) for key, value in priors.items()}
        return Document(
            id=id, title=title,
            sections=tuple((sys.intern(kind), text) for kind, text in sections),
            facets=self._mapping(shared_facets), priors=self._mapping(shared_priors),
        )

    def _mapping(self, mapping: dict[str, Any]) -> Mapping[str, Any]:
        key = ("mapping", *sorted(mapping.items()))
        return self._values.setdefault(key, mapping)
