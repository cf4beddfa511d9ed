"""BM25 over the listing text (bm25s), fields weighted by repeating their tokens.

bm25s has no incremental add. Token lists are kept per document and the index is rebuilt lazily
on the first search after a change (measured: about 0.25 s for the 4,750 listings), so an upsert
is visible on the very next search without a second, differently-weighted delta index.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

import numpy as np

from models.documents import Document
from models.text import tokenize

# How often a field's tokens are repeated: the title and capabilities name what a partner is for;
# pricing-plan features and notes mention many things in passing. Measured on the dev set.
FIELD_WEIGHTS: Mapping[str, int] = {
    "title": 2, "description": 2, "description_ja": 2, "capability": 2,
    "benefit": 1, "feature": 1, "category": 1, "note": 1,
}


def document_tokens(
    document: Document,
    weights: Mapping[str, int] = FIELD_WEIGHTS,
    tokenizer: Callable[[str], list[str]] = tokenize,
) -> list[str]:
    tokens = tokenizer(document.title) * weights.get("title", 1)
    for kind, text in document.sections:
        tokens += tokenizer(text) * weights.get(kind, 1)
    return tokens


class LexicalIndex:
    """BM25 over a fixed set of documents. A change makes a new index (`replaced`): BM25's
    statistics span the whole corpus, and the old index keeps answering while it is built."""

    def __init__(
        self, k1: float = 1.2, b: float = 0.75,
        tokens_of: Callable[[Document], list[str]] = document_tokens,
    ):
        self.k1, self.b = k1, b
        self._tokens_of = tokens_of
        self._tokens: dict[str, list[str]] = {}
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._bm25: Any = None

    def count(self) -> int:
        return len(self._tokens)

    def build(self, documents: Iterable[Document]) -> None:
        self.build_tokens({document.id: self._tokens_of(document) for document in documents})

    def build_tokens(self, tokens: Mapping[str, list[str]]) -> None:
        """Index these documents' tokens (seconds for tens of thousands), replacing all."""
        import bm25s

        self._tokens = dict(tokens)
        self._ids = list(self._tokens)
        self._row = {doc_id: row for row, doc_id in enumerate(self._ids)}
        self._bm25 = None
        if self._ids:
            bm25 = bm25s.BM25(k1=self.k1, b=self.b)
            bm25.index([self._tokens[i] or [""] for i in self._ids], show_progress=False)
            self._bm25 = bm25

    def replaced(
        self, documents: Iterable[Document] = (), removed: Collection[str] = (),
        tokens: Mapping[str, list[str]] | None = None,
    ) -> LexicalIndex:
        """A new index of this one's documents, with `documents` (or ready `tokens`) added or
        replaced and `removed` left out."""
        gone = set(removed)
        merged = {doc_id: t for doc_id, t in self._tokens.items() if doc_id not in gone}
        merged.update({document.id: self._tokens_of(document) for document in documents})
        merged.update(tokens or {})
        fresh = LexicalIndex(self.k1, self.b, self._tokens_of)
        fresh.build_tokens(merged)
        return fresh

    def tokens(self, doc_id: str) -> list[str]:
        return self._tokens.get(doc_id, [])

    def search(
        self, query_tokens: list[str], k: int, allowed: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        """Top-k (id, BM25 score) with score > 0; `allowed` filters before the cut."""
        scores = self.scores(query_tokens)
        if scores is None:
            return []
        if allowed is not None:
            mask = np.zeros(len(self._ids), dtype=bool)
            mask[[self._row[i] for i in allowed if i in self._row]] = True
            scores = np.where(mask, scores, 0.0)
        top = _top_k(scores, k)
        return [(self._ids[row], float(scores[row])) for row in top if scores[row] > 0]

    def scores(self, query_tokens: list[str]) -> np.ndarray | None:
        """BM25 score of every document (row order of `self.ids`), None if nothing matches."""
        bm25 = self._bm25
        known = [t for t in query_tokens if t in bm25.vocab_dict] if bm25 is not None else []
        if not known:
            return None
        return np.asarray(bm25.get_scores(known), dtype=np.float32)

    @property
    def ids(self) -> list[str]:
        return self._ids


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    k = min(k, len(scores))
    if k <= 0:
        return np.array([], dtype=np.int64)
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top], kind="stable")]
