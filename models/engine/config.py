"""The engine's settings and what a search returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from models.lexical import FIELD_WEIGHTS
from models.ranking import PRIOR_BAND, RRF_K
from models.text import Language

Mode = Literal["full", "bm25", "dense"]
CHANNELS = ("bm25", "dense", "multilingual")
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
