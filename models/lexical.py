"""BM25 over the listing text (bm25s), fields weighted by repeating their tokens.

bm25s has no incremental add. Token lists are kept per document and the index is rebuilt lazily
on the first search after a change (measured: about 0.25 s for the 4,750 listings), so an upsert
is visible on the very next search without a second, differently-weighted delta index.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
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
        self._df: Counter[str] = Counter()  # token -> number of documents holding it
        self._dirty = False
        self._lock = threading.Lock()

    def count(self) -> int:
        return len(self._tokens)

    def build(self, documents: Iterable[Document]) -> None:
        self._tokens = {}
        self.add(documents)
        self._rebuild()

    def add(self, documents: Iterable[Document]) -> None:
        """Add or replace documents; visible on the next search."""
        for document in documents:
            self._tokens[document.id] = self._tokens_of(document)
        self._dirty = True

    def add_tokens(self, tokens: Mapping[str, list[str]]) -> None:
        self._tokens.update(tokens)
        self._dirty = True

    def delete(self, ids: Collection[str]) -> None:
        for doc_id in ids:
            self._tokens.pop(doc_id, None)
        self._dirty = True

    def tokens(self, doc_id: str) -> list[str]:
        return self._tokens.get(doc_id, [])

    def search(
        self, query_tokens: list[str], k: int, allowed: Collection[str] | None = None,
        extra: Mapping[str, float] | None = None,
    ) -> list[tuple[str, float]]:
        """Top-k (id, BM25 score) with score > 0; `allowed` filters before the cut. `extra`
        adds weighted terms (feedback terms) to the query's own, which weigh 1 each, for the
        documents the query's own terms match: they reorder what the query found."""
        scores = self.scores(query_tokens, extra)
        if scores is None:
            return []
        if allowed is not None:
            mask = np.zeros(len(self._ids), dtype=bool)
            mask[[self._row[i] for i in allowed if i in self._row]] = True
            scores = np.where(mask, scores, 0.0)
        top = _top_k(scores, k)
        return [(self._ids[row], float(scores[row])) for row in top if scores[row] > 0]

    def scores(
        self, query_tokens: list[str], extra: Mapping[str, float] | None = None
    ) -> np.ndarray | None:
        """BM25 score of every document (row order of `self.ids`), None if nothing matches."""
        bm25, ids = self._current()
        vocabulary = bm25.vocab_dict if bm25 is not None else {}
        known = [t for t in query_tokens if t in vocabulary]
        if not known or not ids:
            return None
        scores = np.asarray(bm25.get_scores(known), dtype=np.float32)
        # Rank fusion credits any match by its rank, however weak: a listing that shares only
        # a feedback term would gain a rank it never earned (in a small catalog, every listing).
        found = scores > 0
        for token, weight in (extra or {}).items():
            if token in vocabulary and weight > 0:
                scores = scores + found * (weight * np.asarray(bm25.get_scores([token]), dtype=np.float32))
        return scores

    def feedback_terms(
        self, doc_ids: Iterable[str], count: int, exclude: Collection[str] = ()
    ) -> dict[str, float]:
        """The `count` terms most typical of some documents (relevance-model style: mean share
        of each document's tokens, times idf), as weights summing to 1. Terms of one document
        only (df < 2) are names and typos, not vocabulary of the need."""
        self._current()
        documents = [self._tokens[i] for i in doc_ids if self._tokens.get(i)]
        weights: Counter[str] = Counter()
        for tokens in documents:
            for token, n in Counter(tokens).items():
                if self._df[token] >= 2 and token not in exclude:
                    weights[token] += n / len(tokens) * self._idf(token)
        top = weights.most_common(count)
        total = sum(weight for _, weight in top)
        return {token: weight / total for token, weight in top} if total > 0 else {}

    def _idf(self, token: str) -> float:
        n, df = len(self._ids), self._df[token]
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    @property
    def ids(self) -> list[str]:
        return self._current()[1]

    def _current(self) -> tuple[Any, list[str]]:
        with self._lock:
            if self._dirty:
                self._rebuild()
            return self._bm25, self._ids

    def _rebuild(self) -> None:
        import bm25s

        self._ids = list(self._tokens)
        self._row = {doc_id: row for row, doc_id in enumerate(self._ids)}
        self._bm25 = None
        self._df = Counter(token for tokens in self._tokens.values() for token in set(tokens))
        if self._ids:
            bm25 = bm25s.BM25(k1=self.k1, b=self.b)
            bm25.index([self._tokens[i] or [""] for i in self._ids], show_progress=False)
            self._bm25 = bm25
        self._dirty = False


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    k = min(k, len(scores))
    if k <= 0:
        return np.array([], dtype=np.int64)
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top], kind="stable")]
