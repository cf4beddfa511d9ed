"""Why a partner matched: the concepts it shares with the query, its best sentence, one line.

Everything here is in the query's language where the glossary knows the words: a PM who asked in
Japanese reads 「定期購入」, one who asked in English reads "subscriptions".
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

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
# Words a request is full of that say nothing of its need: never shown as what matched.
NOT_A_REASON = frozenset([
    "用", "導入", "対応", "機能", "利用", "追加", "実装", "できる", "ほしい", "欲しい", "入れる",
    "アプリ", "サービス", "ツール", "システム", "want", "need", "add", "app", "apps", "tool",
])


@dataclass(frozen=True)
class Analysis:
    """A listing's sentences with their tokens, and all its tokens: made once per listing and
    kept (tokenising every candidate's every sentence was most of a cached query's time)."""

    sentences: tuple[tuple[str, str, frozenset[str]], ...]  # (kind, sentence, tokens)
    tokens: frozenset[str]
    has_japanese_description: bool


def analyse(document: Document) -> Analysis:
    parts = tuple(
        (kind, part.strip(), frozenset(tokenize(part)))
        for kind, text in document.sections
        for part in _SENTENCE_END.split(text) if part.strip()
    )
    tokens = frozenset(tokenize(document.title)).union(*(t for _, _, t in parts))
    return Analysis(parts, tokens, any(kind == "description_ja" for kind, _, _ in parts))


def best_sentence(
    analysis: Analysis, query_tokens: Collection[str], language: Language
) -> dict[str, str] | None:
    """The sentence sharing the most query tokens, weighted by section kind; ties go first."""
    wanted = set(query_tokens)
    best, best_score = None, 0.0
    for kind, sentence, tokens in analysis.sentences:
        if language == "ja" and kind == "description" and analysis.has_japanese_description:
            continue  # a Japanese reader gets the Japanese description when there is one
        score = len(wanted.intersection(tokens)) * _KIND_WEIGHT.get(kind, 1.0)
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
    words = [
        surface for surface, token in query_words
        if token in document_tokens and surface.lower() not in NOT_A_REASON
        and not any(surface in label for label in labels)
    ]  # 定期 and 購入 say nothing 「定期購入」 has not said
    return list(dict.fromkeys(labels + words))[:limit]


def why(matched: Sequence[str], evidence: dict[str, str] | None, language: Language) -> str:
    """One line in the query's language."""
    text = evidence["text"] if evidence else ""
    if language == "ja":
        head = "・".join(f"「{m}」" for m in matched[:3]) + "に対応" if matched else "内容が近い"
        return f"{head}: {text}" if text else head
    head = "Matches " + ", ".join(matched[:3]) if matched else "Similar listing"
    return f"{head}: {text}" if text else head


def _clip(text: str) -> str:
    return text if len(text) <= EVIDENCE_CHARS else text[: EVIDENCE_CHARS - 1].rstrip() + "…"
