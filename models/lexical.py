"""BM25 over the listing text (bm25s), fields weighted by repeating their tokens.

bm25s has no incremental add, and building the index holds the interpreter for a tenth of a second
per 5,000 listings, a pause every request of the process waits through. So a change does not
rebuild it: the listings added or changed since the build are kept beside it (the overlay) and
scored with the same BM25 formula and the built index's statistics (idf, mean length), and the
rows they replace are masked. Once the overlay is large the whole index is built again. A saved
index loads without re-tokenising anything; the token lists are made again only for that rebuild.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from models.documents import Document
from models.files import write_atomic
from models.text import tokenize
from models.vector_index import META_FILE, IndexMismatch

BM25_DIR = "bm25"
# Sentences whose tokens fingerprint the text analysis: a saved BM25 index made by another
# tokenizer (a new Sudachi dictionary, stemmer or stop-word list) is rebuilt, not used.
_PROBES = (
    "The client sells coffee beans and wants monthly subscriptions, reviews & gift wrapping.",
    "定期購入を入れたい。コンビニ決済と後払い、配送日時指定にも対応したいです。",
)


@functools.cache
def analysis_fingerprint() -> str:
    return hashlib.sha256(repr([tokenize(probe) for probe in _PROBES]).encode()).hexdigest()[:16]

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


# Listings changed since the build kept in the overlay, at most: this many, or this share of the
# built index, whichever is larger. Past that the index is built again (BM25's statistics drift
# from the corpus, and the overlay is scored in Python).
OVERLAY_MIN, OVERLAY_SHARE = 256, 0.05


class LexicalIndex:
    """BM25 over a set of documents; immutable: a change makes a new index (`replaced`) that
    shares the built part, so the old one keeps answering meanwhile."""

    def __init__(
        self, k1: float = 1.2, b: float = 0.75,
        tokens_of: Callable[[Document], list[str]] = document_tokens,
    ):
        self.k1, self.b = k1, b
        self._tokens_of = tokens_of
        self._tokens: dict[str, list[str]] | None = {}  # None: loaded, not yet needed
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._bm25: Any = None
        self._avgdl = 0.0
        self._hidden: frozenset[str] = frozenset()  # built rows changed or removed since
        self._overlay_tokens: dict[str, list[str]] = {}  # listings added or changed since
        self._overlay: dict[str, tuple[Counter[str], float]] = {}  # their term counts, length norm

    def count(self) -> int:
        return len(self._ids) - len(self._hidden) + len(self._overlay)

    def build(self, documents: Iterable[Document]) -> None:
        self.build_tokens({document.id: self._tokens_of(document) for document in documents})

    def build_tokens(self, tokens: Mapping[str, list[str]]) -> None:
        """Index these documents' tokens (seconds for tens of thousands), replacing all."""
        import bm25s

        self._tokens = dict(tokens)
        self._set_ids(list(self._tokens))
        self._bm25 = None
        self._hidden, self._overlay, self._overlay_tokens = frozenset(), {}, {}
        if self._ids:
            bm25 = bm25s.BM25(k1=self.k1, b=self.b)
            corpus = [self._tokens[i] or [""] for i in self._ids]
            bm25.index(corpus, show_progress=False)
            self._bm25 = bm25
            self._avgdl = max(1.0, sum(len(t) for t in corpus) / len(corpus))

    def replaced(
        self, documents: Iterable[Document] = (), removed: Collection[str] = (),
        tokens: Mapping[str, list[str]] | None = None,
        all_documents: Callable[[], Iterable[Document]] = tuple,
    ) -> LexicalIndex:
        """A new index of this one's documents, with `documents` (or ready `tokens`) added or
        replaced and `removed` left out: the built part shared, the change in the overlay; or,
        once the overlay is large, built again. After a load, that rebuild makes the token
        lists of the documents kept again from `all_documents()`."""
        changed = {document.id: self._tokens_of(document) for document in documents}
        changed.update(tokens or {})
        gone = set(removed) - set(changed)
        overlay = {k: v for k, v in self._overlay_tokens.items() if k not in gone}
        overlay.update(changed)
        hidden = self._hidden | {i for i in (*gone, *changed) if i in self._row}
        if self._ids and len(overlay) + len(hidden) <= max(OVERLAY_MIN, OVERLAY_SHARE * len(self._ids)):
            fresh = self._sharing_built_part()
            fresh._hidden = frozenset(hidden)
            fresh._overlay_tokens = overlay
            fresh._overlay = {k: fresh._counted(v) if k in changed else self._overlay[k]
                              for k, v in overlay.items()}
            return fresh
        if self._tokens is None:
            current = {d.id: self._tokens_of(d) for d in all_documents()}
        else:
            current = {k: v for k, v in self._tokens.items() if k not in self._hidden}
            current.update(self._overlay_tokens)
        merged = {doc_id: t for doc_id, t in current.items() if doc_id not in gone}
        merged.update(changed)
        fresh = LexicalIndex(self.k1, self.b, self._tokens_of)
        fresh.build_tokens(merged)
        return fresh

    def _counted(self, tokens: list[str]) -> tuple[Counter[str], float]:
        """An overlay listing's term counts and BM25 length norm, k1 (1 - b + b dl / avgdl)."""
        return Counter(tokens), self.k1 * (1 - self.b + self.b * len(tokens) / self._avgdl)

    def _sharing_built_part(self) -> LexicalIndex:
        fresh = LexicalIndex(self.k1, self.b, self._tokens_of)
        fresh._tokens, fresh._ids, fresh._row = self._tokens, self._ids, self._row
        fresh._bm25, fresh._avgdl = self._bm25, self._avgdl
        return fresh

    def save(self, folder: Path, meta: Mapping[str, Any]) -> None:
        """The BM25 arrays (bm25s's own format) and a meta JSON naming the document order."""
        folder.mkdir(parents=True, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(folder / BM25_DIR, show_progress=False)
        full = {**meta, "k1": self.k1, "b": self.b, "ids": self._ids, "avgdl": self._avgdl,
                "hidden": sorted(self._hidden), "overlay": self._overlay_tokens}
        write_atomic(folder / META_FILE, orjson.dumps(full))

    def load(self, folder: Path, expect: Mapping[str, Any]) -> None:
        """Load a saved index; IndexMismatch when it is unreadable or `expect` differs."""
        import bm25s

        try:
            meta = orjson.loads((folder / META_FILE).read_bytes())
            for key, value in {**expect, "k1": self.k1, "b": self.b}.items():
                if meta.get(key) != value:
                    raise IndexMismatch(f"saved BM25 index has another {key}")
            bm25 = bm25s.BM25.load(folder / BM25_DIR, show_progress=False) if meta["ids"] else None
            avgdl, hidden, overlay = float(meta["avgdl"]), meta["hidden"], meta["overlay"]
        except (OSError, ValueError, KeyError) as error:
            raise IndexMismatch(f"no readable BM25 index in {folder}: {error}") from None
        self._tokens = None
        self._set_ids(list(meta["ids"]))
        self._bm25, self._avgdl = bm25, avgdl
        self._hidden, self._overlay_tokens = frozenset(hidden), dict(overlay)
        self._overlay = {k: self._counted(v) for k, v in overlay.items()}

    def _set_ids(self, ids: list[str]) -> None:
        self._ids = ids
        self._row = {doc_id: row for row, doc_id in enumerate(ids)}

    def search(
        self, query_tokens: list[str], k: int, allowed: Collection[str] | None = None,
        extra: Mapping[str, float] | None = None,
    ) -> list[tuple[str, float]]:
        """Top-k (id, BM25 score) with score > 0; `allowed` filters before the cut. `extra`
        adds weighted terms (feedback terms) to the query's own, which weigh 1 each, for the
        documents the query's own terms match: they reorder what the query found."""
        hits = self._built_hits(query_tokens, k, allowed, extra)
        if self._overlay:
            hits = sorted(hits + self._overlay_hits(query_tokens, allowed, extra),
                          key=lambda hit: -hit[1])[:k]
        return hits

    def _built_hits(
        self, query_tokens: list[str], k: int, allowed: Collection[str] | None,
        extra: Mapping[str, float] | None,
    ) -> list[tuple[str, float]]:
        scores = self._built_scores(query_tokens, extra)
        if scores is None:
            return []
        keep = None
        if allowed is not None:
            keep = np.zeros(len(self._ids), dtype=bool)
            keep[[self._row[i] for i in allowed if i in self._row]] = True
        if self._hidden:
            keep = np.ones(len(self._ids), dtype=bool) if keep is None else keep
            keep[[self._row[i] for i in self._hidden]] = False
        if keep is not None:
            scores = np.where(keep, scores, 0.0)
        top = _top_k(scores, k)
        return [(self._ids[row], float(scores[row])) for row in top if scores[row] > 0]

    def _built_scores(
        self, query_tokens: list[str], extra: Mapping[str, float] | None = None
    ) -> np.ndarray | None:
        """BM25 score of every built row (order of `_ids`), None if nothing matches."""
        bm25 = self._bm25
        vocabulary = bm25.vocab_dict if bm25 is not None else {}
        known = [t for t in query_tokens if t in vocabulary]
        if not known:
            return None
        scores = np.asarray(bm25.get_scores(known), dtype=np.float32)
        # Rank fusion credits any match by its rank, however weak: a listing that shares only
        # a feedback term would gain a rank it never earned (in a small catalog, every listing).
        found = scores > 0
        for token, weight in (extra or {}).items():
            if token in vocabulary and weight > 0:
                scores = scores + found * (weight * np.asarray(bm25.get_scores([token]), dtype=np.float32))
        return scores

    def _overlay_hits(
        self, query_tokens: list[str], allowed: Collection[str] | None,
        extra: Mapping[str, float] | None,
    ) -> list[tuple[str, float]]:
        """The overlay's listings scored as bm25s scores the built ones (Lucene's BM25, the built
        index's idf and mean length). A word no built listing has (a new partner's name) counts
        too, with the idf of a word of no listing."""
        idf = {t: self._idf(self._df(t)) for t in {*query_tokens, *(extra or {})}}
        weighted = [(t, w) for t, w in (extra or {}).items() if w > 0]
        hits = []
        for doc_id, (counts, norm) in self._overlay.items():
            if allowed is not None and doc_id not in allowed:
                continue
            score = sum(idf[t] * counts[t] / (counts[t] + norm) for t in query_tokens if counts[t])
            if score > 0:
                score += sum(w * idf[t] * counts[t] / (counts[t] + norm)
                             for t, w in weighted if counts[t])
                hits.append((doc_id, score))
        return hits

    def feedback_terms(
        self, documents: Iterable[list[str]], count: int, exclude: Collection[str] = ()
    ) -> dict[str, float]:
        """The `count` terms most typical of some documents' token lists (relevance-model style:
        mean share of each document's tokens, times idf), as weights summing to 1. Terms of one
        document only (df < 2) are names and typos, not vocabulary of the need."""
        weights: dict[str, float] = {}
        for tokens in documents:
            for token, n in Counter(tokens).items():
                df = self._df(token)
                if df >= 2 and token not in exclude:
                    weights[token] = weights.get(token, 0.0) + n / len(tokens) * self._idf(df)
        top = sorted(weights.items(), key=lambda item: -item[1])[:count]
        total = sum(weight for _, weight in top)
        return {token: weight / total for token, weight in top} if total > 0 else {}

    def _df(self, token: str) -> int:
        """Documents holding the token: the length of its column in BM25's score matrix."""
        row = self._bm25.vocab_dict.get(token) if self._bm25 is not None else None
        if row is None:
            return 0
        indptr = self._bm25.scores["indptr"]
        return int(indptr[row + 1] - indptr[row]) if row + 1 < len(indptr) else 0

    def _idf(self, df: int) -> float:
        return math.log(1 + (len(self._ids) - df + 0.5) / (df + 0.5))

    def tokens(self, doc_id: str) -> list[str] | None:
        """The tokens a listing is indexed with; None when absent or not kept (after a load)."""
        if doc_id in self._overlay_tokens:
            return self._overlay_tokens[doc_id]
        if self._tokens is None or doc_id in self._hidden:
            return None
        return self._tokens.get(doc_id)

    @property
    def ids(self) -> list[str]:
        return [i for i in self._ids if i not in self._hidden] + list(self._overlay)


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    k = min(k, len(scores))
    if k <= 0:
        return np.array([], dtype=np.int64)
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top], kind="stable")]
