"""What the matching engine indexes and returns: plain data, no database, no web."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson

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
    of them, and separate copies cost about 300 MB. Texts are left alone (rarely equal). A
    saved index keeps the sharing (pickle stores a shared object once)."""

    def __init__(self) -> None:
        self._values: dict[object, Any] = {}

    def value(self, value: T) -> T:
        return self._values.setdefault(value, value)

    def document(self, document: Document) -> Document:
        """The document again, sharing what repeats. An equal mapping is found by its JSON
        form (profiled at 100,000 listings: 0.3 s, against 1.2 s rebuilding each mapping to
        compare it)."""
        return Document(
            id=document.id, title=document.title,
            sections=tuple([(sys.intern(kind), text) for kind, text in document.sections]),
            facets=self._shared(document.facets, self._facets),
            priors=self._shared(document.priors, self._priors),
        )

    def _shared(self, mapping: Mapping[str, Any], make: Callable[[Mapping[str, Any]], Any]) -> Any:
        form = orjson.dumps(mapping, default=sorted)
        found = self._values.get(form)
        if found is None:
            found = self._values[form] = make(mapping)
        return found

    def _facets(self, facets: Mapping[str, Iterable[str]]) -> Mapping[str, frozenset[str]]:
        return {sys.intern(key): self.value(frozenset(values)) for key, values in facets.items()}

    @staticmethod
    def _priors(priors: Mapping[str, float]) -> Mapping[str, float]:
        return {sys.intern(key): float(value) for key, value in priors.items()}
