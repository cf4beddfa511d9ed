"""Saving the index as a version of a folder, and loading it back."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from models.engine.indexing import Indexing
from models.engine.store import (
    SavedVersion,
    current_version,
    load_documents,
    save_documents,
    save_version,
)
from models.lexical import LexicalIndex, analysis_fingerprint
from models.vector_index import IndexMismatch, VectorIndex, write_files

LEXICAL_DIR = "lexical"


class Persisting(Indexing):
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
        with gc_paused():
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


@contextmanager
def gc_paused() -> Iterator[None]:
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
