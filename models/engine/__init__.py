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

Where each part lives: `config` (settings, results), `texts` (what each channel reads of a listing
and of a question), `facets` (filters), `state` (what the engine holds), `indexing` (builds,
changes, the vectors filled in after a keyword-first build), `persistence` (saving and loading),
`searching` (ranking, fusion, feedback, reasons, similar listings).
"""

from models.engine.config import (
    CHANNELS,
    ENCODE_BATCH,
    ENCODE_STAGE,
    FILL_STAGE,
    EngineConfig,
    Match,
    Mode,
    SearchResult,
)
from models.engine.persistence import Persisting
from models.engine.searching import Searching

__all__ = ["CHANNELS", "ENCODE_BATCH", "ENCODE_STAGE", "FILL_STAGE", "EngineConfig", "Match",
           "MatchingEngine", "Mode", "SearchResult"]


class MatchingEngine(Searching, Persisting):
    """Documents in, ranked partners with reasons out (see the module)."""
