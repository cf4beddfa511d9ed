"""Answering a question: each channel's ranking, their fusion, the feedback pass, the priors
and the reasons; and the listings like a given one."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from models import explain
from models.embedders import l2_normalise
from models.engine.config import CHANNELS, SIMILAR_TERMS, Match, Mode, SearchResult
from models.engine.facets import allowed, filters_key
from models.engine.state import EngineState
from models.engine.texts import written_in_japanese
from models.glossary import Expansion
from models.need import need_of
from models.ranking import Fused, apply_priors, fuse, prior_value, rocchio, shares
from models.text import STOP_WORDS_EN, Language, detect_language, english_words, stem_words, tokenize
from models.vector_index import VectorIndex


class Searching(EngineState):
    def search(
        self, query: str, top_k: int = 5, filters: Mapping[str, Collection[str]] | None = None,
        mode: Mode = "full", use_priors: bool = True,
    ) -> SearchResult:
        key = (query, top_k, filters_key(filters), mode, use_priors)
        if self.config.results_cache_size and (cached := self._results.get(key)) is not None:
            return cached
        language = detect_language(query)
        # Every channel reads the need alone, without the client's context around it or the
        # closing question (dev, casual English: nDCG@10 0.89 -> 0.93 of the clean wording's).
        need = need_of(query, language) if mode == "full" else query
        expansion = (self._expansions.get_or_compute(need, lambda: self.glossary.expand(need, language))
                     if mode == "full" else Expansion(language))
        texts = {} if mode == "bm25" else (
            {"dense": query} if mode == "dense" else self.texts.channel_texts(need, expansion))
        vectors = self._query_vectors(texts)  # the slow part, outside the lock
        # Ranking and explaining read one consistent index: a concurrent upsert, removal or
        # rebuild waits for them (a few ms), and never removes a candidate midway.
        with self._lock:
            rankings = self._channel_rankings(need, expansion, mode, vectors, allowed(self._facets, filters))
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
            texts = [self.texts.channel_texts(q, self.glossary.expand(q, detect_language(q))).get(channel)
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
        words = query_words(query, language)
        matches = [
            self._match(doc_id, rank, final[doc_id], relevance[doc_id], contributions[doc_id],
                        rankings, expansion, query_tokens, words)
            for rank, doc_id in enumerate(order, start=1)
        ]
        return SearchResult(language, list(expansion.terms), matches)

    def _channel_rankings(
        self, query: str, expansion: Expansion, mode: Mode, vectors: Mapping[str, np.ndarray],
        allowed: set[str] | None,
    ) -> dict[str, list[str]]:
        if mode == "bm25":
            return self._rank(tokenize(query), {}, allowed)
        tokens = self.texts.bm25_query_tokens(query, expansion) if mode == "full" else None
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
            written = self._written_ja[doc_id] = written_in_japanese(self._documents[doc_id])
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
            channels={c: rank_in(rankings.get(c), doc_id) for c in CHANNELS if c in rankings},
        )


def query_words(query: str, language: Language) -> list[tuple[str, str]]:
    """(as typed, as indexed) pairs for the query's own words."""
    if language == "ja":
        return [(token, token) for token in tokenize(query)]
    words = [w for w in english_words(query) if w not in STOP_WORDS_EN]
    return list(zip(words, stem_words(words), strict=True))


def rank_in(ranking: Sequence[str] | None, doc_id: str) -> int | None:
    if not ranking:
        return None
    try:
        return ranking.index(doc_id) + 1
    except ValueError:
        return None
