"""What the engine holds (documents, their concepts and facets, BM25, one vector index per
channel, caches) and the bookkeeping every part of it shares."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from models import explain
from models.documents import Document
from models.embedders import Embedder
from models.engine.config import EngineConfig, SearchResult
from models.engine.facets import add_facets
from models.engine.texts import Texts
from models.glossary import Expansion, Glossary
from models.lexical import LexicalIndex
from models.lru import LruCache
from models.rendering import Dictionary, Renderer
from models.vector_index import VectorIndex


class EngineState:
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
        self.texts = Texts(self.config, glossary, self.renderer, multilingual is not None)
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

    def count(self) -> int:
        return len(self._documents)

    def ids(self) -> set[str]:
        with self._lock:
            return set(self._documents)

    def pending(self) -> int:
        """Listings searchable by keyword whose vectors are not encoded yet."""
        with self._lock:
            return len(self._pending)

    def _new_lexical(self) -> LexicalIndex:
        return LexicalIndex(self.config.bm25_k1, self.config.bm25_b, self._document_tokens)

    def _listing_tokens(self, document: Document) -> list[str]:
        """A listing's BM25 tokens, kept for the listings that come back to the top."""
        key = (document.id, document.title, document.sections)
        return self._token_lists.get_or_compute(key, lambda: self._document_tokens(document))

    def _document_tokens(self, document: Document) -> list[str]:
        return self.texts.tokens_with(document, self._concepts.get(document.id, frozenset()))

    def _indexed_tokens(self, doc_id: str) -> list[str] | None:
        """The BM25 tokens of a listing as the index holds them; None when it holds none."""
        document = self._documents.get(doc_id)
        if document is None:
            return None
        return self._lexical.tokens(doc_id) or self._listing_tokens(document)

    def _register(self, documents: Sequence[Document], concepts: Mapping[str, frozenset[str]]) -> None:
        for document in documents:
            self._documents[document.id] = document
            self._concepts[document.id] = concepts[document.id]
        add_facets(self._facets, documents)

    def _unregister(self, ids: Iterable[str]) -> None:
        for doc_id in ids:
            self._written_ja.pop(doc_id, None)
            document = self._documents.pop(doc_id, None)
            self._concepts.pop(doc_id, None)
            for key, values in (document.facets.items() if document else ()):
                for value in values:
                    self._facets.get(key, {}).get(value.lower(), set()).discard(doc_id)
