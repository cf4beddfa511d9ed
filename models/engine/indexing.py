"""Changing the index: a whole build, changes of some listings, removals, and the vectors of
listings installed by keyword first (`fill`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import numpy as np

from models.documents import Document, SharedValues
from models.engine.config import ENCODE_BATCH, ENCODE_STAGE, FILL_STAGE
from models.engine.facets import add_facets
from models.engine.state import EngineState
from models.lexical import LexicalIndex
from models.progress import Progress, no_progress
from models.vector_index import VectorIndex


class Indexing(EngineState):
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
            concepts = {document.id: self.texts.concepts_of(document) for document in documents}
            tokens = {d.id: self.texts.tokens_with(d, concepts[d.id]) for d in documents}
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

    def _encode_documents(
        self, documents: Sequence[Document], progress: Progress = no_progress,
    ) -> dict[str, np.ndarray]:
        """Every channel's vectors of these documents, encoded batch by batch (progress told
        after each)."""
        parts: dict[str, list[np.ndarray]] = {channel: [] for channel in self._vectors}
        progress(ENCODE_STAGE, 0, len(documents))
        for start in range(0, len(documents), ENCODE_BATCH):
            batch = documents[start : start + ENCODE_BATCH]
            parts["dense"].append(self.dense.encode_documents([self.texts.dense(d) for d in batch]))
            if self.multilingual is not None:
                parts["multilingual"].append(self.multilingual.encode_documents(
                    [self.texts.multilingual(d) for d in batch]))
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
                        else shared.value(self.texts.concepts_of(d)) for d in documents}
        if lexical is None:
            lexical = self._new_lexical()
            lexical.build_tokens({
                d.id: (d.id in unchanged and held_lexical.tokens(d.id))
                or self.texts.tokens_with(d, concepts[d.id])
                for d in documents
            })
        facets = add_facets({}, documents)
        with self._writing, self._lock:
            self._results.clear()
            self._documents = {document.id: document for document in documents}
            self._concepts, self._facets = concepts, facets
            self._lexical, self._vectors = lexical, vectors
            self._pending = dict.fromkeys(d.id for d in documents) if pending else {}
            self._written_ja = {}
