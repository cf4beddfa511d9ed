"""The matching engine: documents in, ranked partners with reasons out.

Full pipeline: language detection → glossary expansion → three channels
  - bm25: BM25 over the listing with the query's tokens plus the glossary's terms for it, and for
    Japanese text (query or listing) the English words of its rendering (models/rendering.py);
  - dense: the English MiniLM on the English rendering of the query (the query itself, or for a
    Japanese query the glossary's English terms and the query's Latin words), over the listings
    as written in English, or as rendered in English when written in Japanese;
  - multilingual: e5 on the raw query, whatever its language;
→ weighted reciprocal rank fusion → pseudo-relevance feedback (the top fused listings move the
dense query vectors and add terms to the BM25 query; every channel ranks again, fused again) →
bounded priors → explanation.
`mode="bm25"` and `mode="dense"` are the evaluation's baselines: raw query, one channel, no
glossary.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from models import explain
from models.documents import Document, SharedValues
from models.embedders import Embedder, l2_normalise
from models.engine_store import (
    SavedVersion,
    current_version,
    load_documents,
    save_documents,
    save_version,
)
from models.glossary import Expansion, Glossary
from models.lexical import FIELD_WEIGHTS, LexicalIndex, analysis_fingerprint, document_tokens
from models.lru import LruCache
from models.need import need_of
from models.progress import Progress, no_progress
from models.ranking import (
    PRIOR_BAND,
    RRF_K,
    Fused,
    apply_priors,
    fuse,
    prior_value,
    rocchio,
    shares,
)
from models.rendering import Dictionary, Renderer
from models.text import (
    STOP_WORDS_EN,
    Language,
    detect_language,
    english_words,
    has_japanese,
    latin_words,
    stem_words,
    tokenize,
)
from models.vector_index import IndexMismatch, VectorIndex, write_files

Mode = Literal["full", "bm25", "dense"]
CHANNELS = ("bm25", "dense", "multilingual")
LEXICAL_DIR = "lexical"
ENCODE_BATCH = 256  # listings encoded between two progress reports (and two installs by `fill`)
ENCODE_STAGE, FILL_STAGE = "encoding listings", "encoding listings (searchable by keyword meanwhile)"
# The terms of a listing that query BM25 for the listings like it (`MatchingEngine.similar`).
SIMILAR_TERMS = 12


@dataclass(frozen=True)
class EngineConfig:
    # Channel weights per query language, measured on the dev set. e5 is the weakest channel
    # for English (0.70 alone) but the only one that reads a Japanese query as written.
    weights: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: {
        "en": {"bm25": 1.0, "dense": 1.0, "multilingual": 0.5},
        "ja": {"bm25": 1.0, "dense": 1.0, "multilingual": 1.0},
    })
    # The channels that read a listing written in Japanese for a question in English: BM25 and
    # MiniLM through its English rendering; e5 finds a third as many of them as of the same
    # listings in English (dev set, recall@50). Such a listing's fused relevance is divided by
    # the readers' share of the weights, as if the other channels had ranked it as they did.
    cross_language_readers: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: {
        "en": ("bm25", "dense"),
    })
    depth: int = 100  # candidates taken from each channel before fusion
    rrf_k: int = RRF_K
    prior_band: float = PRIOR_BAND
    field_weights: Mapping[str, int] = field(default_factory=lambda: dict(FIELD_WEIGHTS))
    # Anserini's BM25 defaults. Fields weighted by repetition inflate term counts, so term
    # frequency should saturate sooner (k1) and length matter less (b) than with 1.2 and 0.75:
    # fused EN nDCG 0.829 -> 0.844 on the dev set, and 0.836-0.848 for k1 0.5-0.9, b 0.3-0.6.
    bm25_k1: float = 0.9
    bm25_b: float = 0.4
    # Title + description + key benefits. Adding plan features, or keeping only title and
    # tagline, changed the fused nDCG by less than 0.01 (see the report).
    dense_sections: tuple[str, ...] = ("description", "description_ja", "benefit")
    multilingual_sections: tuple[str, ...] = ("description", "description_ja", "benefit")
    expand_english: bool = False  # add the glossary's synonyms to an English query too
    concept_tokens: bool = True  # "@entry" tokens shared by queries and listings in BM25
    rendering_terms: int = 0  # English terms per glossary entry for MiniLM (0: all)
    # Pseudo-relevance feedback: the top fused listings of a first pass move each dense query
    # vector towards them (Rocchio) and add their most typical terms to the BM25 query (RM3),
    # then every channel ranks again. 0 feedback listings turns it off.
    feedback_docs: int = 3
    feedback_vector_weight: float = 0.3  # Rocchio's beta, the query vector having norm 1
    feedback_terms: int = 5
    feedback_term_weight: float = 0.2  # the feedback terms weigh this share of the query's own
    # A full build of at least this many listings puts each channel's vectors in an HNSW graph
    # (approximate: a search visits a few thousand of them); below it, or 0, every one is scored.
    graph_from: int = 50_000
    cache_size: int = 1024  # query embeddings kept
    results_cache_size: int = 1024  # answers kept, until the index next changes (0: none)
    explained_cache_size: int = 4096  # listings whose analysed sentences are kept for reasons


@dataclass(frozen=True)
class Match:
    id: str
    rank: int
    score: float
    relevance: float
    matched: list[str]
    evidence: dict[str, str] | None
    why: str
    signals: dict[str, float]
    channels: dict[str, int | None]


@dataclass(frozen=True)
class SearchResult:
    language: Language
    expansion: list[str]
    candidates: list[Match]
    # The channels that ranked: all of them, or while listings' vectors are still being
    # encoded (`MatchingEngine.pending`), the keyword channel and those with vectors so far.
    channels: tuple[str, ...] = ()
    complete: bool = True  # every listing had every channel's vector


class MatchingEngine:
    def __init__(
        self, dense: Embedder, multilingual: Embedder | None, glossary: Glossary,
        config: EngineConfig | None = None, dictionary: Dictionary | None = None,
    ):
        self.dense, self.multilingual, self.glossary = dense, multilingual, glossary
        self.config = config or EngineConfig()
        self.renderer = Renderer(glossary, dictionary or Dictionary())
        self._documents: dict[str, Document] = {}
        self._concepts: dict[str, frozenset[str]] = {}  # doc id -> glossary entry ids it names
        self._facets: dict[str, dict[str, set[str]]] = {}  # key -> value -> doc ids
        self._lexical = self._new_lexical()
        graph_from = self.config.graph_from
        self._vectors = {"dense": VectorIndex(dense.dimension, graph_from)}
        if multilingual is not None:
            self._vectors["multilingual"] = VectorIndex(multilingual.dimension, graph_from)
        self._cache: LruCache[np.ndarray] = LruCache(self.config.cache_size)
        self._analyses: LruCache[explain.Analysis] = LruCache(self.config.explained_cache_size)
        self._token_lists: LruCache[list[str]] = LruCache(self.config.explained_cache_size)
        self._expansions: LruCache[Expansion] = LruCache(self.config.cache_size)
        # Whole answers of this index: a PM's repeated question, a Slack button's re-run. Stored
        # and emptied under `_lock`, so no answer of a replaced index outlives the change.
        self._results: LruCache[SearchResult] = LruCache(max(1, self.config.results_cache_size))
        # Listings installed before their vectors (a large build or change, made searchable by
        # keyword at once): `fill` encodes them, batch by batch, in the caller's thread.
        self._pending: dict[str, None] = {}
        self._written_ja: dict[str, bool] = {}  # doc id -> written in Japanese (see _fuse)
        self._lock = threading.RLock()  # index mutations vs searches; encoding stays outside
        # One change at a time: each makes its new BM25 index (an overlay, or now and then a
        # rebuild) from the last one's before taking `_lock` for the swap, so searches never wait.
        self._writing = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    # -- building ------------------------------------------------------------------------
    def count(self) -> int:
        return len(self._documents)

    def ids(self) -> set[str]:
        with self._lock:
            return set(self._documents)

    def pending(self) -> int:
        """Listings searchable by keyword whose vectors are not encoded yet."""
        with self._lock:
            return len(self._pending)

    def build(
        self, documents: Iterable[Document], progress: Progress = no_progress, vectors: bool = True,
    ) -> None:
        """Index these documents afresh. With `vectors=False` they are searchable by keyword as
        soon as this returns, and the vector channels wait for `fill`."""
        shared = SharedValues()
        documents = [shared.document(document) for document in documents]
        encoded = self._encode_documents(documents, progress) if vectors else None
        fresh = {c: VectorIndex(i.dimension, i.graph_from) for c, i in self._vectors.items()}
        if encoded is not None:
            for channel, index in fresh.items():
                index.build([d.id for d in documents], encoded[channel])
        self._install(documents, fresh, pending=encoded is None)

    def fill(self, progress: Progress = no_progress, batch: int = ENCODE_BATCH) -> int:
        """Encode the pending listings batch by batch, each searchable by every channel as soon
        as its batch is in; returns how many were encoded. A listing changed or removed meanwhile
        is left to the change (its batch's vectors are dropped)."""
        done, total = 0, self.pending()
        while True:
            with self._lock:
                documents = [self._documents[i] for i in list(self._pending)[:batch]]
            if not documents:
                progress(FILL_STAGE, total, total)
                self._graph_when_large()
                return done
            progress(FILL_STAGE, min(done, total), max(total, done))
            encoded = self._encode_documents(documents)
            with self._writing, self._lock:
                current = [i for i, d in enumerate(documents)
                           if self._documents.get(d.id) is d and d.id in self._pending]
                ids = [documents[i].id for i in current]
                for channel, index in self._vectors.items():
                    index.add(ids, encoded[channel][current])
                for doc_id in [d.id for d in documents]:
                    self._pending.pop(doc_id, None)
                self._results.clear()
            done += len(documents)

    def upsert(
        self, documents: Iterable[Document], progress: Progress = no_progress, vectors: bool = True,
    ) -> None:
        """Add or replace documents; with `vectors=False`, searchable by keyword at once and by
        the vector channels after `fill`."""
        documents = list(documents)
        encoded = self._encode_documents(documents, progress) if vectors else None
        ids = [d.id for d in documents]
        with self._writing:
            concepts = {document.id: self._concepts_of(document) for document in documents}
            tokens = {d.id: self._tokens_with(d, concepts[d.id]) for d in documents}
            lexical = self._lexical
            if any(tokens[doc_id] != self._indexed_tokens(doc_id) for doc_id in tokens):
                # BM25 changes only when some text did, not for a rating or a status
                lexical = lexical.replaced(
                    tokens=tokens, all_documents=lambda: list(self._documents.values()))
            with self._lock:
                self._results.clear()
                self._unregister(ids)
                self._register(documents, concepts)
                self._lexical = lexical
                for channel, index in self._vectors.items():
                    if encoded is None:
                        index.delete(ids)
                    else:
                        index.add(ids, encoded[channel])
                for doc_id in ids:
                    if encoded is None:
                        self._pending[doc_id] = None
                    else:
                        self._pending.pop(doc_id, None)

    def remove(self, ids: Collection[str]) -> None:
        with self._writing:
            lexical = self._lexical.replaced(
                removed=ids, all_documents=lambda: list(self._documents.values()))
            with self._lock:
                self._results.clear()
                self._unregister(ids)
                self._lexical = lexical
                for index in self._vectors.values():
                    index.delete(ids)
                for doc_id in ids:
                    self._pending.pop(doc_id, None)

    # -- searching -----------------------------------------------------------------------
    def search(
        self, query: str, top_k: int = 5, filters: Mapping[str, Collection[str]] | None = None,
        mode: Mode = "full", use_priors: bool = True,
    ) -> SearchResult:
        key = (query, top_k, _filters_key(filters), mode, use_priors)
        if self.config.results_cache_size and (cached := self._results.get(key)) is not None:
            return cached
        language = detect_language(query)
        # Every channel reads the need alone, without the client's context around it or the
        # closing question (dev, casual English: nDCG@10 0.89 -> 0.93 of the clean wording's).
        need = need_of(query, language) if mode == "full" else query
        expansion = (self._expansions.get_or_compute(need, lambda: self.glossary.expand(need, language))
                     if mode == "full" else Expansion(language))
        texts = {} if mode == "bm25" else (
            {"dense": query} if mode == "dense" else self._channel_texts(need, expansion))
        vectors = self._query_vectors(texts)  # the slow part, outside the lock
        # Ranking and explaining read one consistent index: a concurrent upsert, removal or
        # rebuild waits for them (a few ms), and never removes a candidate midway.
        with self._lock:
            rankings = self._channel_rankings(need, expansion, mode, vectors, self._allowed(filters))
            result = self._ranked(need, expansion, rankings, top_k, mode, use_priors)
            result = replace(result, complete=not self._pending, channels=tuple(
                c for c in CHANNELS if c in rankings and (c == "bm25" or self._vectors[c].count())))
            if self.config.results_cache_size:
                self._results.put(key, result)
            return result

    def similar(self, doc_id: str, top_k: int = 5) -> list[tuple[str, float]]:
        """The listings most like an indexed one, itself left out, as (id, fused relevance): its
        own stored vectors query each vector channel and its most typical terms query BM25,
        every channel weighing the same. Empty for an id the index does not hold."""
        with self._lock:
            document = self._documents.get(doc_id)
            if document is None:
                return []
            terms = self._lexical.feedback_terms([self._listing_tokens(document)], SIMILAR_TERMS)
            vectors = {channel: index.vectors([doc_id]) for channel, index in self._vectors.items()
                       if doc_id in index}  # a listing whose vectors are pending: by keyword
            rankings = self._rank(list(terms), vectors, None)
        others = {channel: [i for i in ranking if i != doc_id] for channel, ranking in rankings.items()}
        fused = fuse(others, dict.fromkeys(others, 1.0), self.config.rrf_k)
        return [(f.id, f.relevance) for f in fused[:top_k]]

    def vector_graph(self) -> bool:
        """Whether the vector channels search an HNSW graph (else every vector is scored)."""
        with self._lock:
            return any(index.graph for index in self._vectors.values())

    def vector_recall(
        self, queries: Sequence[str], k: int, jitter: float = 0.0
    ) -> dict[str, float]:
        """Per vector channel, the share of the exact top k that its search finds for these
        queries (1.0 when every vector is scored). With `jitter`, measured on a copy of each
        channel's index whose vectors are moved apart by that much noise: a catalog made of
        copies of few listings holds many equal vectors, an HNSW graph's worst case, which a
        catalog of distinct listings does not have."""
        recall = {}
        for channel, index in self._vectors.items():
            texts = [self._channel_texts(q, self.glossary.expand(q, detect_language(q))).get(channel)
                     for q in queries]
            vectors = [self._query_vectors({channel: text})[channel] for text in texts if text]
            if not vectors:
                recall[channel] = 1.0
                continue
            if jitter:
                with self._lock:
                    ids = list(index.ids())
                    stored = index.vectors(ids)
                noise = np.random.default_rng(0).standard_normal(stored.shape).astype(np.float32)
                index = VectorIndex(index.dimension, index.graph_from)
                index.build(ids, l2_normalise(stored + jitter * noise))
                recall[channel] = index.recall(np.vstack(vectors), k)
            else:
                with self._lock:
                    recall[channel] = index.recall(np.vstack(vectors), k)
        return recall

    def _ranked(
        self, query: str, expansion: Expansion, rankings: Mapping[str, Sequence[str]], top_k: int,
        mode: Mode, use_priors: bool,
    ) -> SearchResult:
        language = expansion.language
        fused = self._fuse(rankings, language) if mode == "full" else fuse(rankings, {mode: 1.0})
        relevance = {f.id: f.relevance for f in fused}
        priors = {f.id: prior_value(self._documents[f.id].priors) for f in fused[: top_k * 4]}
        band = self.config.prior_band if use_priors and mode == "full" else 0.0
        final = apply_priors({i: relevance[i] for i in priors}, priors, band)
        order = sorted(final, key=lambda i: (-final[i], i))[:top_k]
        contributions = {f.id: f.contributions for f in fused}
        # Tokenised once per search, not once per candidate.
        query_tokens = set(tokenize(query)) | set(tokenize(" ".join(expansion.terms_en)))
        query_words = _query_words(query, language)
        matches = [
            self._match(doc_id, rank, final[doc_id], relevance[doc_id], contributions[doc_id],
                        rankings, expansion, query_tokens, query_words)
            for rank, doc_id in enumerate(order, start=1)
        ]
        return SearchResult(language, list(expansion.terms), matches)

    def _channel_rankings(
        self, query: str, expansion: Expansion, mode: Mode, vectors: Mapping[str, np.ndarray],
        allowed: set[str] | None,
    ) -> dict[str, list[str]]:
        if mode == "bm25":
            return self._rank(tokenize(query), {}, allowed)
        tokens = self._bm25_tokens(query, expansion) if mode == "full" else None
        rankings = self._rank(tokens, vectors, allowed)
        if mode != "full" or self.config.feedback_docs <= 0:
            return rankings
        fused = self._fuse(rankings, expansion.language)
        return self._feedback_rankings([f.id for f in fused[: self.config.feedback_docs]],
                                       tokens or [], vectors, allowed) if fused else rankings

    def _fuse(self, rankings: Mapping[str, Sequence[str]], language: Language) -> list[Fused]:
        """The full pipeline's fusion, compensating listings written in the other language for
        the channels that cannot read them (`EngineConfig.cross_language_readers`)."""
        weights = self.config.weights[language]
        readers = self.config.cross_language_readers.get(language)
        factor = (sum(weights.values()) / sum(weights.get(c, 0.0) for c in readers)) if readers else 1.0
        if factor == 1.0:
            return fuse(rankings, weights, self.config.rrf_k)
        return fuse(rankings, weights, self.config.rrf_k,
                    lambda doc_id: factor if self._in_japanese(doc_id) else 1.0)

    def _in_japanese(self, doc_id: str) -> bool:
        """Whether a listing is written in Japanese, decided once per listing (a search asks it
        of every fused candidate, twice: 1.6 ms of a new question's 18)."""
        written = self._written_ja.get(doc_id)
        if written is None:
            written = self._written_ja[doc_id] = _written_in_japanese(self._documents[doc_id])
        return written

    def _feedback_rankings(
        self, top: list[str], tokens: list[str], vectors: Mapping[str, np.ndarray],
        allowed: set[str] | None,
    ) -> dict[str, list[str]]:
        """The second pass of pseudo-relevance feedback from the first pass's top listings."""
        config = self.config
        top_tokens = [self._listing_tokens(self._documents[doc_id]) for doc_id in top]
        terms = self._lexical.feedback_terms(top_tokens, config.feedback_terms, exclude=set(tokens))
        extra = {t: w * config.feedback_term_weight * len(tokens) for t, w in terms.items()}
        moved = {}
        for channel, vector in vectors.items():
            index = self._vectors[channel]
            encoded = [doc_id for doc_id in top if doc_id in index] if self._pending else top
            moved[channel] = (rocchio(vector, index.vectors(encoded), config.feedback_vector_weight)
                              if encoded else vector)
        return self._rank(tokens, moved, allowed, extra)

    def _rank(
        self, tokens: list[str] | None, vectors: Mapping[str, np.ndarray], allowed: set[str] | None,
        extra: Mapping[str, float] | None = None,
    ) -> dict[str, list[str]]:
        """Each channel's top `depth` ids: BM25 when tokens are given, then each query vector."""
        depth, rankings = self.config.depth, {}
        if tokens is not None:
            rankings["bm25"] = [i for i, _ in self._lexical.search(tokens, depth, allowed, extra)]
        for channel, vector in vectors.items():
            hits = self._vectors[channel].search(vector, depth, allowed)[0]
            rankings[channel] = [doc_id for doc_id, _ in hits]
        return rankings

    def _channel_texts(self, query: str, expansion: Expansion) -> dict[str, str]:
        texts = {"dense": query if expansion.language == "en" else self._english_rendering(query, expansion)}
        if "multilingual" in self._vectors:
            texts["multilingual"] = query
        return {channel: text for channel, text in texts.items() if text}

    def _query_vectors(self, texts: Mapping[str, str]) -> dict[str, np.ndarray]:
        """Query embeddings, cached; two uncached ones are encoded at once (the engines release
        the GIL, and each runs on one core), halving the latency of a new query."""
        vectors = {c: v for c, t in texts.items() if (v := self._cache.get((c, t))) is not None}
        missing = [channel for channel in texts if channel not in vectors]
        if len(missing) > 1:
            futures = {c: self._executor().submit(self._encode_query, c, texts[c]) for c in missing}
            vectors.update({channel: future.result() for channel, future in futures.items()})
        elif missing:
            vectors[missing[0]] = self._encode_query(missing[0], texts[missing[0]])
        return {channel: vectors[channel] for channel in texts}

    def _encode_query(self, channel: str, text: str) -> np.ndarray:
        embedder = self.dense if channel == "dense" else self.multilingual
        assert embedder is not None
        vector = embedder.encode_queries([text])[0]
        self._cache.put((channel, text), vector)
        return vector

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="query-encode")
            return self._pool

    def _bm25_tokens(self, query: str, expansion: Expansion) -> list[str]:
        tokens = self._japanese_and_rendered_tokens(query)
        if expansion.language == "ja" or self.config.expand_english:
            tokens += tokenize(" ".join(expansion.terms_en))
        if self.config.concept_tokens:
            tokens += [f"@{entry.id}" for entry in expansion.entries]
        return list(dict.fromkeys(tokens))

    def _english_rendering(self, query: str, expansion: Expansion) -> str:
        """What the English-only MiniLM can read of a Japanese query: the glossary's English
        terms plus the brand names and other Latin words typed in it; when the glossary knows
        none of its words, the query's dictionary rendering (dev: JA nDCG@10 0.847 -> 0.858;
        the rendering beside the glossary's terms: 0.849)."""
        if not expansion.entries:
            return self.renderer.render(query)
        limit = self.config.rendering_terms or None
        terms = [term for entry in expansion.entries for term in entry.en[:limit]]
        return ", ".join(dict.fromkeys([*terms, *latin_words(query)]))

    def _allowed(self, filters: Mapping[str, Collection[str]] | None) -> set[str] | None:
        """Documents whose facet intersects the allowed values, for every filter key."""
        if not filters:
            return None
        allowed: set[str] | None = None
        for key, values in filters.items():
            by_value = self._facets.get(key, {})
            passing = set().union(*(by_value.get(str(v).lower(), set()) for v in values))
            allowed = passing if allowed is None else allowed & passing
        return allowed if allowed is not None else set()

    # -- explaining ----------------------------------------------------------------------
    def _match(
        self, doc_id: str, rank: int, score: float, relevance: float,
        contributions: Mapping[str, float], rankings: Mapping[str, Sequence[str]],
        expansion: Expansion, query_tokens: set[str], query_words: list[tuple[str, str]],
    ) -> Match:
        document = self._documents[doc_id]
        language = expansion.language
        analysis = self._analyses.get_or_compute((doc_id, document.sections),
                                                 lambda: explain.analyse(document))
        evidence = explain.best_sentence(analysis, query_tokens, language)
        matched = explain.matched_terms(
            expansion.entries, self._concepts.get(doc_id, frozenset()), query_words,
            analysis.tokens, language,
        )
        return Match(
            id=doc_id, rank=rank, score=round(score, 6), relevance=round(relevance, 6),
            matched=matched, evidence=evidence, why=explain.why(matched, evidence, language),
            signals=shares(contributions, max(0.0, score - relevance)),
            channels={c: _rank_in(rankings.get(c), doc_id) for c in CHANNELS if c in rankings},
        )

    # -- persistence ---------------------------------------------------------------------
    def save(
        self, folder: Path | str, generation: int, extra: dict[str, object] | None = None
    ) -> SavedVersion:
        """Save as a new version of the folder, made current in one atomic step. The index is
        copied under the lock (the vectors' bytes, references to the rest, which changes replace
        rather than alter), and written after it: searches do not wait for the disk."""
        with self._lock:
            if self._pending:
                raise ValueError(f"{len(self._pending)} listings' vectors are still being encoded")
            vectors = {channel: index.dump(self._meta(channel, generation))
                       for channel, index in self._vectors.items()}
            lexical, concepts = self._lexical, dict(self._concepts)
            documents = list(self._documents.values())

        def write(version: Path) -> None:
            for channel, files in vectors.items():
                write_files(version / channel, files)
            lexical.save(version / LEXICAL_DIR, self._lexical_meta(generation))
            save_documents(version, documents, generation, concepts, self.glossary.fingerprint)

        return save_version(Path(folder), generation, write, extra)

    def load(self, folder: Path | str, generation: int | None = None) -> SavedVersion | None:
        """Load the folder's current version; None when it is missing, built by another model
        or sections, or (when `generation` is given) saved for another catalog generation."""
        with _gc_paused():
            return self._load(Path(folder), generation)

    def _load(self, folder: Path, generation: int | None) -> SavedVersion | None:
        try:
            saved = current_version(folder)
            if generation is not None and saved.generation != generation:
                return None
            fresh = {c: VectorIndex(i.dimension, i.graph_from) for c, i in self._vectors.items()}
            # FAISS reads its files without the interpreter lock: the vectors load in threads
            # while the documents are unpickled (0.7 s at 100,000 listings, 0.2 s per channel)
            with ThreadPoolExecutor(len(fresh), thread_name_prefix="index-load") as pool:
                loads = [pool.submit(index.load, saved.folder / channel,
                                     self._meta(channel, saved.generation))
                         for channel, index in fresh.items()]
                documents, concepts = load_documents(
                    saved.folder, saved.generation, self.glossary.fingerprint)
                for load in loads:
                    load.result()
        except IndexMismatch:
            return None
        ids = {d.id for d in documents}
        if any(index.ids() != ids for index in fresh.values()):
            return None
        self._install(documents, fresh, concepts, self._saved_lexical(saved, concepts, ids))
        return saved

    def _saved_lexical(
        self, saved: SavedVersion, concepts: object, ids: set[str]
    ) -> LexicalIndex | None:
        """The saved BM25 index, when the same analysis, glossary and weights made it."""
        if concepts is None:
            return None
        lexical = self._new_lexical()
        try:
            lexical.load(saved.folder / LEXICAL_DIR, self._lexical_meta(saved.generation))
        except IndexMismatch:
            return None
        return lexical if set(lexical.ids) == ids else None

    def _lexical_meta(self, generation: int) -> dict[str, object]:
        return {
            "generation": generation, "analysis": analysis_fingerprint(),
            "glossary": self.glossary.fingerprint, "concept_tokens": self.config.concept_tokens,
            "field_weights": dict(self.config.field_weights), "rendering": self.renderer.fingerprint,
        }

    def _meta(self, channel: str, generation: int) -> dict[str, object]:
        embedder = self.dense if channel == "dense" else self.multilingual
        assert embedder is not None
        sections = self.config.dense_sections if channel == "dense" else self.config.multilingual_sections
        return {"model": embedder.name, "generation": generation, "sections": list(sections),
                "rendering": self.renderer.fingerprint}

    # -- internals -----------------------------------------------------------------------
    def _encode_documents(
        self, documents: Sequence[Document], progress: Progress = no_progress,
    ) -> dict[str, np.ndarray]:
        """Every channel's vectors of these documents, encoded batch by batch (progress told
        after each)."""
        parts: dict[str, list[np.ndarray]] = {channel: [] for channel in self._vectors}
        progress(ENCODE_STAGE, 0, len(documents))
        for start in range(0, len(documents), ENCODE_BATCH):
            batch = documents[start : start + ENCODE_BATCH]
            parts["dense"].append(self.dense.encode_documents([self._dense_text(d) for d in batch]))
            if self.multilingual is not None:
                parts["multilingual"].append(self.multilingual.encode_documents(
                    [self._multilingual_text(d) for d in batch]))
            progress(ENCODE_STAGE, start + len(batch), len(documents))
        return {channel: (np.vstack(arrays) if arrays else
                          np.zeros((0, self._vectors[channel].dimension), dtype=np.float32))
                for channel, arrays in parts.items()}

    def _graph_when_large(self) -> None:
        """Vectors filled in batches go to an exact index; once whole, a channel of at least
        `graph_from` listings is built again as a graph, as a build would have made it."""
        with self._lock:
            large = [(c, i) for c, i in self._vectors.items()
                     if i.graph_from and not i.graph and i.count() >= i.graph_from]
        for channel, index in large:
            with self._writing:
                ids = sorted(index.ids())
                graph = VectorIndex(index.dimension, index.graph_from)
                graph.build(ids, index.vectors(ids))
                with self._lock:
                    if self._vectors[channel] is index:
                        self._vectors[channel] = graph

    def _install(
        self, documents: list[Document], vectors: dict[str, VectorIndex],
        concepts: dict[str, frozenset[str]] | None = None, lexical: LexicalIndex | None = None,
        pending: bool = False,
    ) -> None:
        """Replace the whole index, with the concepts and BM25 index loaded beside the vectors
        or made here. The slow parts (glossary tagging, BM25) run before the lock, so searches
        go on meanwhile against the previous index."""
        with self._lock:  # what the index holds now: an unchanged listing's analysis is reused
            held, held_concepts, held_lexical = (
                dict(self._documents), dict(self._concepts), self._lexical)
        unchanged = {d.id for d in documents if held.get(d.id) == d and d.id in held_concepts}
        if concepts is None:
            shared = SharedValues()
            concepts = {d.id: held_concepts[d.id] if d.id in unchanged
                        else shared.value(self._concepts_of(d)) for d in documents}
        if lexical is None:
            lexical = self._new_lexical()
            lexical.build_tokens({
                d.id: (d.id in unchanged and held_lexical.tokens(d.id))
                or self._tokens_with(d, concepts[d.id])
                for d in documents
            })
        facets = _add_facets({}, documents)
        with self._writing, self._lock:
            self._results.clear()
            self._documents = {document.id: document for document in documents}
            self._concepts, self._facets = concepts, facets
            self._lexical, self._vectors = lexical, vectors
            self._pending = dict.fromkeys(d.id for d in documents) if pending else {}
            self._written_ja = {}

    def _dense_text(self, document: Document) -> str:
        """MiniLM reads English only: a listing written (partly) in Japanese is encoded as its
        English rendering."""
        text = _embedding_text(document, self.config.dense_sections)
        return self.renderer.render(text) if has_japanese(text) else text

    def _multilingual_text(self, document: Document) -> str:
        """e5 reads a listing written in Japanese as written and as rendered: an English question
        then meets it in English words too (dev: parity of English questions 0.81 -> 0.82, EN
        nDCG@10 0.854 -> 0.858, JA 0.858 -> 0.862)."""
        text = _embedding_text(document, self.config.multilingual_sections)
        return f"{text} {self.renderer.render(text)}" if _written_in_japanese(document) else text

    def _japanese_and_rendered_tokens(self, text: str, synonyms: bool = False) -> list[str]:
        """A text's BM25 tokens, plus those of its Japanese words' English rendering: English
        queries meet listings written in Japanese, and Japanese queries the English listings,
        on the words the glossary does not know. A listing's rendering carries each word's
        synonyms (dev: parity of English questions 0.82 -> 0.97, nDCG@10 kept 0.957 -> 0.972;
        a query's, only the first gloss: with all, hurried Japanese kept 0.92 -> 0.91)."""
        tokens = tokenize(text)
        if not has_japanese(text):
            return tokens
        return tokens + tokenize(self.renderer.render_japanese(text, synonyms))

    def _listing_text_tokens(self, text: str) -> list[str]:
        return self._japanese_and_rendered_tokens(text, synonyms=True)

    def _new_lexical(self) -> LexicalIndex:
        return LexicalIndex(self.config.bm25_k1, self.config.bm25_b, self._document_tokens)

    def _listing_tokens(self, document: Document) -> list[str]:
        """A listing's BM25 tokens, kept for the listings that come back to the top."""
        key = (document.id, document.title, document.sections)
        return self._token_lists.get_or_compute(key, lambda: self._document_tokens(document))

    def _document_tokens(self, document: Document) -> list[str]:
        return self._tokens_with(document, self._concepts.get(document.id, frozenset()))

    def _tokens_with(self, document: Document, concepts: frozenset[str]) -> list[str]:
        """Listing tokens, plus one "@entry" token per glossary concept the listing names, so
        a query in either language meets the listing on the concept itself."""
        tokens = document_tokens(document, self.config.field_weights, self._listing_text_tokens)
        if not self.config.concept_tokens:
            return tokens
        return tokens + [f"@{entry_id}" for entry_id in sorted(concepts)]

    def _indexed_tokens(self, doc_id: str) -> list[str] | None:
        """The BM25 tokens of a listing as the index holds them; None when it holds none."""
        document = self._documents.get(doc_id)
        if document is None:
            return None
        return self._lexical.tokens(doc_id) or self._listing_tokens(document)

    def _concepts_of(self, document: Document) -> frozenset[str]:
        text = " ".join([document.title, *document.texts()])
        return frozenset(entry.id for entry in self.glossary.find(text))

    def _register(self, documents: Sequence[Document], concepts: Mapping[str, frozenset[str]]) -> None:
        for document in documents:
            self._documents[document.id] = document
            self._concepts[document.id] = concepts[document.id]
        _add_facets(self._facets, documents)

    def _unregister(self, ids: Iterable[str]) -> None:
        for doc_id in ids:
            self._written_ja.pop(doc_id, None)
            document = self._documents.pop(doc_id, None)
            self._concepts.pop(doc_id, None)
            for key, values in (document.facets.items() if document else ()):
                for value in values:
                    self._facets.get(key, {}).get(value.lower(), set()).discard(doc_id)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Loading creates millions of small objects, and the cyclic collector would run over and
    over meanwhile: parsing 100,000 listings' documents (then JSON) took 5.1 s with it, 0.6 s
    without.
    They are then frozen (see `gc.freeze`) before the collector comes back: otherwise its first
    run walks them all (0.35 s at 100,000 listings) to find nothing, since the index keeps them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _add_facets(
    facets: dict[str, dict[str, set[str]]], documents: Iterable[Document]
) -> dict[str, dict[str, set[str]]]:
    """Add documents to a facet index (key -> value -> doc ids) and return it. The documents
    that share one facets mapping (`SharedValues`) go in together: 0.14 s at 100,000 listings
    against 0.37 s one by one."""
    groups: dict[int, tuple[Mapping[str, frozenset[str]], list[str]]] = {}
    for document in documents:
        groups.setdefault(id(document.facets), (document.facets, []))[1].append(document.id)
    for mapping, ids in groups.values():
        for key, values in mapping.items():
            for value in values:
                facets.setdefault(key, {}).setdefault(value.lower(), set()).update(ids)
    return facets


def _filters_key(filters: Mapping[str, Collection[str]] | None) -> tuple[object, ...]:
    return tuple(sorted((key, tuple(sorted(map(str, values))))
                        for key, values in (filters or {}).items()))


def _embedding_text(document: Document, sections: Sequence[str]) -> str:
    parts = [document.title, *document.texts(*sections)]
    return ". ".join(part.strip().rstrip(". ") for part in parts if part.strip())


def _written_in_japanese(document: Document) -> bool:
    """A listing whose own words are Japanese, with no description in English."""
    described = document.texts("description", "description_ja")
    return has_japanese(" ".join([document.title, *described, *document.texts("benefit")])) and not any(
        detect_language(text) == "en" for text in document.texts("description"))


def _query_words(query: str, language: Language) -> list[tuple[str, str]]:
    """(as typed, as indexed) pairs for the query's own words."""
    if language == "ja":
        return [(token, token) for token in tokenize(query)]
    words = [w for w in english_words(query) if w not in STOP_WORDS_EN]
    return list(zip(words, stem_words(words), strict=True))


def _rank_in(ranking: Sequence[str] | None, doc_id: str) -> int | None:
    if not ranking:
        return None
    try:
        return ranking.index(doc_id) + 1
    except ValueError:
        return None
