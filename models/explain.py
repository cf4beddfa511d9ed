"""Why a partner matched: the concepts it shares with the query, its best sentence, one line.

Everything here is in the query's language where the glossary knows the words: a PM who asked in
Japanese reads 「定期購入」, one who asked in English reads "subscriptions".
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from functools import lru_cache

from models.documents import Document
from models.glossary import Entry
from models.text import Language, tokenize

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")
# Evidence prefers what the listing says it does over pricing-plan fine print.
_KIND_WEIGHT = {
    "capability": 1.2, "description": 1.1, "description_ja": 1.1, "benefit": 1.0,
    "feature": 0.8, "note": 0.8, "category": 0.5,
}
EVIDENCE_CHARS = 160


def sentences(document: Document) -> list[tuple[str, str]]:
    """(kind, sentence) pairs of a document, in display order."""
    out = []
    for kind, text in document.sections:
        out += [(kind, part.strip()) for part in _SENTENCE_END.split(text) if part.strip()]
    return out


def best_sentence(
    document: Document, query_tokens: Collection[str], language: Language
) -> dict[str, str] | None:
    """The sentence sharing the most query tokens, weighted by section kind; ties go first."""
    wanted = set(query_tokens)
    best, best_score = None, 0.0
    for kind, sentence in sentences(document):
        if language == "ja" and kind == "description" and _has_kind(document, "description_ja"):
            continue  # a Japanese reader gets the Japanese description when there is one
        score = len(wanted.intersection(_sentence_tokens(sentence))) * _KIND_WEIGHT.get(kind, 1.0)
        if score > best_score:
            best, best_score = (kind, sentence), score
    if best is None:
        return None
    return {"kind": best[0], "text": _clip(best[1])}


def matched_terms(
    query_entries: Sequence[Entry], document_entries: Collection[str],
    query_words: Sequence[tuple[str, str]], document_tokens: Collection[str],
    language: Language, limit: int = 6,
) -> list[str]:
    """Glossary concepts of the query that the listing also names (as labels in the query's
    language), then the query's own words (surface, stem) found in the listing."""
    labels = [entry.label(language) for entry in query_entries if entry.id in document_entries]
    words = [surface for surface, token in query_words if token in document_tokens]
    return list(dict.fromkeys(labels + words))[:limit]


def why(matched: Sequence[str], evidence: dict[str, str] | None, language: Language) -> str:
    """One line in the query's language."""
    text = evidence["text"] if evidence else ""
    if language == "ja":
        head = "・".join(f"「{m}」" for m in matched[:3]) + "に対応" if matched else "内容が近い"
        return f"{head}: {text}" if text else head
    head = "Matches " + ", ".join(matched[:3]) if matched else "Similar listing"
    return f"{head}: {text}" if text else head


@lru_cache(maxsize=1 << 13)  # about 10 MB of token sets
def _sentence_tokens(sentence: str) -> frozenset[str]:
    """Listings' sentences recur from search to search: tokenise each once (Sudachi is slow)."""
    return frozenset(tokenize(sentence))


def _has_kind(document: Document, kind: str) -> bool:
    return any(k == kind for k, _ in document.sections)


def _clip(text: str) -> str:
    return text if len(text) <= EVIDENCE_CHARS else text[: EVIDENCE_CHARS - 1].rstrip() + "…"
